// The daemon's scheduled jobs, by the names the config, the state file and the audit log use.
package io.zpitr.appliance.daemon;

import java.util.Optional;

/**
 * A job the daemon runs on a schedule: {@code schedule.snapshot}, {@code schedule.prune},
 * {@code schedule.drill}, {@code schedule.replicate}.
 */
public enum JobKind {
    SNAPSHOT("snapshot"),
    PRUNE("prune"),
    DRILL("drill"),
    REPLICATE("replicate");

    private final String wireName;

    JobKind(String wireName) {
        this.wireName = wireName;
    }

    /** The name in the config ({@code schedule.<name>}), the state file and the audit details. */
    public String wireName() {
        return wireName;
    }

    /** The audit record's {@code command} for a run of this job: {@code ["daemon", "<name>-job"]}. */
    public java.util.List<String> auditCommand() {
        return java.util.List.of("daemon", wireName + "-job");
    }

    /** This job's expression in the {@code schedule} section, or null when it is not scheduled. */
    public String configured(io.zpitr.appliance.config.Settings.Schedules schedule) {
        java.util.Optional<String> text = switch (this) {
            case SNAPSHOT -> schedule.snapshot();
            case PRUNE -> schedule.prune();
            case DRILL -> schedule.drill();
            case REPLICATE -> schedule.replicate();
        };
        return text.orElse(null);
    }

    public static Optional<JobKind> of(String wireName) {
        for (JobKind k : values()) {
            if (k.wireName.equals(wireName)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return wireName;
    }
}
