// Per-target replication figures for `zpitr status` and the metrics, from the state each run leaves.
package io.zpitr.appliance.replication;

import io.zpitr.appliance.config.Settings;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each configured target's last run left ({@link ReplicationState}): the newest set complete
 * there and its age, the bytes the last run sent, its outcome. Reads files only: asking the
 * targets themselves is {@code zpitr replicate --dry-run}'s job.
 */
public final class ReplicationStatus {
    private ReplicationStatus() {}

    /** One target: its name, where it is, and its last recorded run (null: never ran). */
    public record Target(String name, String describe, ReplicationState last) {}

    /** Every configured target, in configuration order. */
    public static List<Target> of(Settings settings) {
        List<Target> out = new ArrayList<>();
        for (ReplicationTarget t : settings.replication().all()) {
            out.add(new Target(
                    t.name(),
                    t.describe(),
                    ReplicationState.read(settings.stateDir(), t.name()).orElse(null)));
        }
        return out;
    }

    /** One status line's text for a target. */
    public static String line(Target t, Instant now) {
        ReplicationState s = t.last();
        if (s == null) {
            return t.describe() + ": never replicated";
        }
        String newest = s.newestSet() == null
                ? "no set replicated yet"
                : "newest set " + s.newestSet()
                        + (s.newestSetCreated() == null
                                ? ""
                                : " (age " + age(Duration.between(Instant.parse(s.newestSetCreated()), now)) + ")");
        String outcome = "failed".equals(s.outcome())
                ? "LAST RUN FAILED at " + s.finished() + ": " + s.error()
                : "last run " + s.outcome() + " at " + s.finished() + ", " + s.setsSent() + " set(s), " + s.bytesSent()
                        + " bytes";
        return t.describe() + ": " + newest + "; " + outcome;
    }

    /** The JSON form of {@code zpitr status --format json}'s {@code replication} list. */
    public static List<Map<String, Object>> json(List<Target> targets, Instant now) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Target t : targets) {
            Map<String, Object> m = new LinkedHashMap<>();
            ReplicationState s = t.last();
            m.put("target", t.name());
            m.put("newest_set", s == null ? null : s.newestSet());
            m.put("newest_set_created", s == null ? null : s.newestSetCreated());
            m.put(
                    "newest_set_age_seconds",
                    s == null || s.newestSetCreated() == null
                            ? null
                            : Duration.between(Instant.parse(s.newestSetCreated()), now)
                                    .toSeconds());
            m.put("last_run_finished", s == null ? null : s.finished());
            m.put("last_outcome", s == null ? null : s.outcome());
            m.put("last_error", s == null ? null : s.error());
            m.put("last_bytes_sent", s == null ? null : s.bytesSent());
            m.put("last_sets_sent", s == null ? null : s.setsSent());
            out.add(m);
        }
        return out;
    }

    /** The Prometheus lines for every target (docs/metrics.md). */
    public static String metrics(List<Target> targets) {
        StringBuilder m = new StringBuilder();
        if (targets.isEmpty()) {
            return "";
        }
        m.append(
                "# HELP zpitr_replication_newest_set_timestamp_seconds Creation time of the newest set complete on the target.\n");
        m.append("# TYPE zpitr_replication_newest_set_timestamp_seconds gauge\n");
        for (Target t : targets) {
            if (t.last() != null && t.last().newestSetCreated() != null) {
                m.append("zpitr_replication_newest_set_timestamp_seconds{target=\"")
                        .append(t.name())
                        .append("\"} ")
                        .append(Instant.parse(t.last().newestSetCreated()).getEpochSecond())
                        .append('\n');
            }
        }
        // Each family's samples together, as the text format requires.
        m.append("# HELP zpitr_replication_last_run_bytes Bytes of the send streams of the target's last run.\n");
        m.append("# TYPE zpitr_replication_last_run_bytes gauge\n");
        for (Target t : targets) {
            if (t.last() != null) {
                m.append("zpitr_replication_last_run_bytes{target=\"")
                        .append(t.name())
                        .append("\"} ")
                        .append(t.last().bytesSent())
                        .append('\n');
            }
        }
        m.append(
                "# HELP zpitr_replication_last_run_success 1 when the target's last run completed, 0 when it failed.\n");
        m.append("# TYPE zpitr_replication_last_run_success gauge\n");
        for (Target t : targets) {
            if (t.last() != null) {
                m.append("zpitr_replication_last_run_success{target=\"")
                        .append(t.name())
                        .append("\"} ")
                        .append("failed".equals(t.last().outcome()) ? 0 : 1)
                        .append('\n');
            }
        }
        return m.toString();
    }

    static String age(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 120) {
            return s + "s";
        }
        if (s < 2 * 3600) {
            return s / 60 + "m";
        }
        if (s < 2 * 86400) {
            return s / 3600 + "h";
        }
        return s / 86400 + "d";
    }
}
