// Records what a drill proved: one audit line `drill`, and zpitr:verified_at / zpitr:verified_outcome on the set.
package io.zpitr.appliance.drill;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.audit.Outcome;
import io.zpitr.appliance.snapshot.SnapshotProperties;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.zfs.SnapshotName;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The set's properties go on every dataset's snapshot of it, like its hold tags, so that
 * {@code zfs get} on any of them shows when it was last proven restorable. A failed or
 * unrestorable drill is recorded as such: the audit line's outcome is {@code failed}, the set's
 * outcome says which.
 */
final class DrillEvidence {
    private final Appliance appliance;
    private final List<String> argv;

    /** @param argv the command line as typed, or the daemon's job command */
    DrillEvidence(Appliance appliance, List<String> argv) {
        this.appliance = appliance;
        this.argv = argv;
    }

    /** A drill that ran its checks. */
    void record(DrillResult r, Optional<SnapshotSet> set) {
        Map<String, Object> d = r.fields();
        mark(set, r.outcome(), r.at());
        appliance
                .audit()
                .append(
                        AuditEvent.DRILL,
                        argv,
                        r.outcome() == DrillResult.Outcome.passed ? Outcome.OK : Outcome.FAILED,
                        d);
    }

    /** A drill that could not restore: the target is not restorable, or the restore failed. */
    void failed(Map<String, Object> known, Throwable error, DrillResult.Outcome outcome, Optional<SnapshotSet> set) {
        Map<String, Object> d = new LinkedHashMap<>(known);
        d.put("result", outcome.name());
        d.put("error", String.valueOf(error.getMessage()).lines().findFirst().orElse(""));
        try {
            mark(set, outcome, appliance.clock().instant());
        } finally {
            appliance.audit().append(AuditEvent.DRILL, argv, Outcome.FAILED, d);
        }
    }

    private void mark(Optional<SnapshotSet> set, DrillResult.Outcome outcome, Instant at) {
        if (set.isEmpty()) {
            return;
        }
        for (SnapshotName s : set.get().snapshots()) {
            appliance.zfs().setUserProperty(s, SnapshotProperties.VERIFIED_AT, at.toString());
            appliance.zfs().setUserProperty(s, SnapshotProperties.VERIFIED_OUTCOME, outcome.name());
        }
    }
}
