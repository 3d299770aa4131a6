// Writes the daemon's Prometheus text file (node_exporter's textfile collector) after each job.
package io.zpitr.appliance.daemon;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.audit.AuditLog;
import io.zpitr.appliance.snapshot.RecoverableWindow;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.appliance.wal.WalFetchCounters;
import io.zpitr.archive.AtomicLanding;
import io.zpitr.archive.Landing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The metrics, rewritten atomically (temp file and rename, as the textfile collector requires):
 * last snapshot time, snapshot sets retained, sets overdue for a drill, recoverable window, wal-fetch
 * outcomes per source, job failures per job, the last drill. Documented in docs/metrics.md.
 */
public final class MetricsTextFile {
    private final Appliance appliance;

    public MetricsTextFile(Appliance appliance) {
        this.appliance = appliance;
    }

    /** Renders the current figures. */
    public String render() {
        StringBuilder m = new StringBuilder();
        List<SnapshotSet> sets = appliance.catalog().list();
        gauge(m, "zpitr_snapshot_sets", "Snapshot sets retained.", Map.of(), sets.size());
        if (appliance.settings().drillProveWithin().isPresent()) {
            gauge(
                    m,
                    "zpitr_drill_overdue_sets",
                    "Retained snapshot sets without a passed drill within drill.prove_within.",
                    Map.of(),
                    io.zpitr.appliance.drill.DrillRotation.coverage(
                                    sets,
                                    appliance.settings(),
                                    appliance.clock().instant())
                            .overdue()
                            .size());
        }
        if (!sets.isEmpty()) {
            gauge(
                    m,
                    "zpitr_last_snapshot_timestamp_seconds",
                    "Creation time of the newest snapshot set.",
                    Map.of(),
                    sets.get(sets.size() - 1).created().getEpochSecond());
            RecoverableWindow w = RecoverableWindow.of(sets, appliance.standby().replayTime());
            gauge(
                    m,
                    "zpitr_recoverable_window_seconds",
                    "Span from the earliest to the latest restorable time.",
                    Map.of(),
                    Duration.between(w.earliest(), w.latest()).toSeconds());
        }
        m.append("# HELP zpitr_wal_fetch_total WAL files asked for by wal-fetch, per source and outcome.\n");
        m.append("# TYPE zpitr_wal_fetch_total counter\n");
        for (Map.Entry<WalFetchCounters.Key, Long> e : new WalFetchCounters(
                        appliance.settings().walFetchCounters(),
                        appliance.settings().archive().spoolDir())
                .read()
                .entrySet()) {
            m.append("zpitr_wal_fetch_total{source=\"")
                    .append(e.getKey().source())
                    .append("\",outcome=\"")
                    .append(e.getKey().outcome())
                    .append("\"} ")
                    .append(e.getValue())
                    .append('\n');
        }
        Map<String, Long> failures = new TreeMap<>(Map.of("snapshot", 0L, "prune", 0L, "drill", 0L, "replicate", 0L));
        AuditLog audit = appliance.audit();
        io.zpitr.appliance.audit.AuditRecord lastDrill = null;
        if (audit.exists()) {
            for (AuditLog.Entry e : audit.entries()) {
                if (e.record() != null
                        && AuditEvent.JOB_FAILURE.wireName().equals(e.record().event())) {
                    // The text of the JSON value: String.valueOf of the node would keep its quotes, and
                    // job=""snapshot"" makes the collector reject the whole file.
                    String job = e.record().details().path("job").asText();
                    failures.merge(job, 1L, Long::sum);
                }
                if (e.record() != null
                        && AuditEvent.DRILL.wireName().equals(e.record().event())) {
                    lastDrill = e.record();
                }
            }
        }
        if (lastDrill != null) {
            gauge(
                    m,
                    "zpitr_last_drill_timestamp_seconds",
                    "When the last restore drill ended.",
                    Map.of(),
                    lastDrill.time().getEpochSecond());
            gauge(
                    m,
                    "zpitr_last_drill_passed",
                    "1 when the last restore drill passed every check, else 0.",
                    Map.of(),
                    lastDrill.outcome() == io.zpitr.appliance.audit.Outcome.OK ? 1 : 0);
            var done = lastDrill.details().path("timings_ms").path("done");
            if (done.isNumber()) {
                gauge(
                        m,
                        "zpitr_last_drill_duration_seconds",
                        "How long the last restore drill took, clone to drop.",
                        Map.of(),
                        done.asLong() / 1000);
            }
        }
        m.append("# HELP zpitr_job_failures_total Failed daemon job runs, per job (from the audit log).\n");
        m.append("# TYPE zpitr_job_failures_total counter\n");
        failures.forEach((job, n) -> m.append("zpitr_job_failures_total{job=\"")
                .append(job)
                .append("\"} ")
                .append(n)
                .append('\n'));
        m.append(io.zpitr.appliance.replication.ReplicationStatus.metrics(
                io.zpitr.appliance.replication.ReplicationStatus.of(appliance.settings())));
        return m.toString();
    }

    /** Writes the file atomically. */
    public void write() throws IOException {
        Path file = appliance.settings().metricsFile();
        Files.createDirectories(file.getParent());
        // Readable by all: node_exporter's textfile collector runs as its own user.
        AtomicLanding.write(
                file,
                render().getBytes(StandardCharsets.UTF_8),
                PosixFilePermissions.fromString("rw-r--r--"),
                Landing.QUICK);
    }

    private static void gauge(StringBuilder m, String name, String help, Map<String, String> labels, long value) {
        m.append("# HELP ").append(name).append(' ').append(help).append('\n');
        m.append("# TYPE ").append(name).append(" gauge\n");
        m.append(name).append(' ').append(value).append('\n');
    }
}
