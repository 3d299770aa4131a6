// `zpitr status`: replay lag, newest snapshot, recoverable window, archive hosts, next and last jobs, prefetchers.
package io.zpitr.appliance.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.zpitr.appliance.daemon.ScheduleState;
import io.zpitr.appliance.drill.DrillRotation;
import io.zpitr.appliance.snapshot.RecoverableWindow;
import io.zpitr.appliance.status.StatusReport;
import io.zpitr.appliance.status.StatusService;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the appliance's health, one line per part (table) or one document (json); see docs/daemon.md. */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = {
            "Shows how the appliance is doing: standby lag, snapshots, window, archive hosts, jobs.",
            "The standby's replay lag (and how far it is behind the primary, when one is configured),"
                    + " the newest snapshot set and its age, the recoverable window, the sets overdue for a drill"
                    + " (drill.prove_within), whether each archive source answers,"
                    + " and each scheduled job's next run and last outcome. Exits 0 whenever it could report;"
                    + " read the fields for health. Table times are in the configured timezone, JSON times in UTC."
        })
final class StatusCommand implements Callable<Integer> {
    enum Format {
        table,
        json
    }

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--format", description = "table (default) or json.")
    Format format = Format.table;

    @Override
    public Integer call() throws Exception {
        io.zpitr.appliance.Appliance appliance = main.appliance();
        StatusReport report = new StatusService(appliance).report();
        List<io.zpitr.appliance.replication.ReplicationStatus.Target> replication =
                io.zpitr.appliance.replication.ReplicationStatus.of(appliance.settings());
        PrintWriter out = spec.commandLine().getOut();
        if (format == Format.json) {
            Map<String, Object> doc = json(report);
            doc.put("replication", io.zpitr.appliance.replication.ReplicationStatus.json(replication, report.time()));
            out.println(new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(doc));
        } else {
            List<String[]> more = new ArrayList<>();
            for (var t : replication) {
                more.add(new String[] {
                    "replica " + t.name(), io.zpitr.appliance.replication.ReplicationStatus.line(t, report.time())
                });
            }
            table(out, report, more);
        }
        out.flush();
        return Main.OK;
    }

    static Map<String, Object> json(StatusReport r) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("time", r.time().toString());
        doc.put("timezone", r.zone().getId());
        StatusReport.Standby s = r.standby();
        Map<String, Object> standby = new LinkedHashMap<>();
        standby.put("configured", s.configured());
        standby.put("reachable", s.reachable());
        standby.put("error", s.error());
        standby.put("in_recovery", s.inRecovery());
        standby.put("replay_lsn", s.replayLsn());
        standby.put("receive_lsn", s.receiveLsn());
        standby.put(
                "last_replayed_commit",
                s.lastReplayedCommit() == null
                        ? null
                        : s.lastReplayedCommit().toInstant().toString());
        standby.put("replay_lag_seconds", s.replayLagSeconds());
        doc.put("standby", standby);
        StatusReport.Primary p = r.primary();
        Map<String, Object> primary = new LinkedHashMap<>();
        primary.put("configured", p.configured());
        primary.put("reachable", p.configured() && p.error() == null);
        primary.put("error", p.error());
        primary.put("current_lsn", p.currentLsn());
        primary.put("lag_bytes", p.lagBytes());
        doc.put("primary", primary);
        StatusReport.Snapshots snaps = r.snapshots();
        doc.put("snapshot_sets", snaps.error() == null ? snaps.count() : null);
        doc.put("snapshot_error", snaps.error());
        if (snaps.lastId() == null) {
            doc.put("last_snapshot", null);
        } else {
            Map<String, Object> last = new LinkedHashMap<>();
            last.put("id", snaps.lastId());
            last.put("created", snaps.lastCreated().toString());
            last.put(
                    "age_seconds",
                    Math.max(0, Duration.between(snaps.lastCreated(), r.time()).toSeconds()));
            doc.put("last_snapshot", last);
        }
        RecoverableWindow window = snaps.window();
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("earliest", window.earliest() == null ? null : window.earliest().toString());
        w.put("earliest_from", window.earliestFrom());
        w.put("latest", window.latest() == null ? null : window.latest().toString());
        w.put("latest_from", window.latestFrom());
        doc.put("recoverable_window", w);
        doc.put("drills", snaps.drills() == null ? null : drills(snaps.drills()));
        List<Map<String, Object>> sources = new ArrayList<>();
        for (StatusReport.ArchiveSource a : r.archiveSources()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", a.name());
            m.put("type", a.type());
            m.put("location", a.location());
            m.put("reachable", a.reachable());
            m.put("state", a.state());
            m.put("detail", a.detail());
            m.put("down_until", a.downUntil() == null ? null : a.downUntil().toString());
            sources.add(m);
        }
        doc.put("archive_sources", sources);
        List<Map<String, Object>> jobs = new ArrayList<>();
        for (StatusReport.Job j : r.jobs()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", j.name());
            m.put("schedule", j.schedule());
            m.put("schedule_error", j.error());
            m.put("next_run", j.nextRun() == null ? null : j.nextRun().toString());
            m.put("last_run", j.lastRun() == null ? null : lastRun(j.lastRun()));
            m.put("state_error", j.stateError());
            jobs.add(m);
        }
        doc.put("jobs", jobs);
        List<Map<String, Object>> prefetchers = new ArrayList<>();
        for (var f : r.prefetchers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pid", f.pid());
            m.put("spool", f.spool().toString());
            m.put("serves", f.dataDir() == null ? null : f.dataDir().toString());
            m.put("last_requested", f.lastRequested());
            m.put("system_identifier", f.systemIdentifier());
            m.put("since", f.since() == null ? null : f.since().toString());
            prefetchers.add(m);
        }
        doc.put("prefetchers", prefetchers);
        Map<String, Object> daemon = new LinkedHashMap<>();
        daemon.put("running", r.daemonPid() != null);
        daemon.put("pid", r.daemonPid());
        doc.put("daemon", daemon);
        return doc;
    }

    /** The sets against drill.prove_within: {@code prove_within}, counts, the overdue ids, whether the schedule keeps up. */
    static Map<String, Object> drills(DrillRotation.Coverage c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prove_within", c.proveWithin().map(DrillRotation::text).orElse(null));
        m.put("sets", c.sets());
        m.put("never_drilled", c.neverProven());
        m.put("overdue", c.proveWithin().isEmpty() ? null : c.overdue().size());
        m.put("overdue_sets", c.overdue());
        m.put("runs_within_period", c.runsWithinPeriod().orElse(null));
        m.put("keeps_up", c.keepsUp());
        return m;
    }

    private static Map<String, Object> lastRun(ScheduleState.JobRun run) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("started", run.lastRun().toString());
        m.put("outcome", run.outcome().wireName());
        m.put("finished", run.finished() == null ? null : run.finished().toString());
        m.put("trigger", run.trigger());
        m.put("attempt", run.attempt());
        m.put("result", run.result());
        m.put("error", run.error());
        m.put("next_retry", run.nextRetry() == null ? null : run.nextRetry().toString());
        return m;
    }

    private static void table(PrintWriter out, StatusReport r, List<String[]> replicaRows) {
        DateTimeFormatter local =
                DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ssXXX").withZone(r.zone());
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"standby", standby(r, local)});
        StatusReport.Primary p = r.primary();
        if (p.configured()) {
            rows.add(new String[] {
                "primary",
                p.error() != null
                        ? "UNREACHABLE: " + p.error()
                        : "at " + p.currentLsn()
                                + (p.lagBytes() == null ? "" : "; standby replay " + bytes(p.lagBytes()) + " behind")
            });
        }
        StatusReport.Snapshots s = r.snapshots();
        if (s.error() != null) {
            rows.add(new String[] {"snapshots", "CANNOT LIST: " + s.error()});
        } else if (s.lastId() == null) {
            rows.add(new String[] {"snapshots", "none yet"});
        } else {
            rows.add(new String[] {
                "snapshots",
                s.count() + " set(s); newest " + s.lastId() + ", created " + local.format(s.lastCreated()) + ", "
                        + age(Duration.between(s.lastCreated(), r.time())) + " ago"
            });
        }
        RecoverableWindow w = s.window();
        rows.add(new String[] {
            "recoverable window",
            w.earliest() == null
                    ? "none (no snapshot set)"
                    : local.format(w.earliest()) + " (" + w.earliestFrom() + ") to " + local.format(w.latest()) + " ("
                            + w.latestFrom() + ")"
        });
        if (s.drills() != null) {
            rows.add(new String[] {"drill", s.drills().summary()});
        }
        for (StatusReport.ArchiveSource a : r.archiveSources()) {
            String where = "(" + a.type() + " " + a.location() + ")";
            String text = switch (a.state()) {
                case "up" -> "up " + where;
                case "down" ->
                    "DOWN: " + a.detail() + " " + where + "; wal-fetch skips it until " + local.format(a.downUntil());
                case "remembered-down" ->
                    "DOWN (not asked: wal-fetch skips it until " + local.format(a.downUntil()) + ") " + where;
                default -> a.state().toUpperCase(java.util.Locale.ROOT) + ": " + a.detail() + " " + where;
            };
            rows.add(new String[] {"archive " + a.name(), text});
        }
        for (StatusReport.Job j : r.jobs()) {
            rows.add(new String[] {"job " + j.name(), job(j, local)});
        }
        rows.addAll(replicaRows);
        rows.add(
                new String[] {"daemon", r.daemonPid() == null ? "not running" : "running (pid " + r.daemonPid() + ")"});
        if (r.prefetchers().isEmpty()) {
            rows.add(new String[] {"prefetchers", "none running"});
        }
        for (var f : r.prefetchers()) {
            rows.add(new String[] {
                "prefetcher pid " + f.pid(),
                "serves "
                        + (f.dataDir() == null
                                ? "(PostgreSQL not known)"
                                : f.dataDir().toString())
                        + (f.lastRequested() == null ? "" : ", asked last for " + f.lastRequested())
                        + (f.systemIdentifier() == null ? "" : ", cluster " + f.systemIdentifier())
                        + "; spool " + f.spool() + (f.since() == null ? "" : ", since " + local.format(f.since()))
            });
        }
        int width = rows.stream().mapToInt(x -> x[0].length()).max().orElse(0) + 2;
        for (String[] row : rows) {
            out.println(row[0] + " ".repeat(width - row[0].length()) + row[1]);
        }
    }

    private static String standby(StatusReport r, DateTimeFormatter local) {
        StatusReport.Standby s = r.standby();
        if (!s.configured()) {
            return "not configured (postgres.standby)";
        }
        if (s.error() != null) {
            return "UNREACHABLE: " + s.error();
        }
        StringBuilder text = new StringBuilder(
                Boolean.TRUE.equals(s.inRecovery()) ? "in recovery, replayed to " : "NOT IN RECOVERY (promoted?), at ");
        text.append(s.replayLsn());
        if (s.receiveLsn() != null) {
            text.append(", received to ").append(s.receiveLsn());
        }
        if (s.lastReplayedCommit() == null) {
            text.append("; no commit replayed yet");
        } else {
            text.append("; replay lag ")
                    .append(age(Duration.ofMillis(Math.round(s.replayLagSeconds() * 1000))))
                    .append(" (last replayed commit ")
                    .append(local.format(s.lastReplayedCommit()))
                    .append(")");
        }
        return text.toString();
    }

    private static String job(StatusReport.Job j, DateTimeFormatter local) {
        if (j.schedule() == null) {
            return "not scheduled";
        }
        if (j.error() != null) {
            return "INVALID SCHEDULE \"" + j.schedule() + "\": " + j.error();
        }
        StringBuilder text = new StringBuilder("next ")
                .append(j.nextRun() == null ? "never" : local.format(j.nextRun()))
                .append(" (\"")
                .append(j.schedule())
                .append("\")");
        ScheduleState.JobRun last = j.lastRun();
        if (j.stateError() != null) {
            text.append("; last run unknown: ").append(j.stateError());
        } else if (last == null || last.outcome() == ScheduleState.Outcome.NONE) {
            text.append("; never run")
                    .append(last == null ? "" : " (daemon first started " + local.format(last.lastRun()) + ")");
        } else {
            text.append("; last run ")
                    .append(
                            last.outcome() == ScheduleState.Outcome.FAILED
                                    ? "FAILED"
                                    : last.outcome().wireName())
                    .append(" ")
                    .append(local.format(last.lastRun()))
                    .append(" (")
                    .append(last.trigger())
                    .append(")");
            if (last.result() != null) {
                text.append(": ").append(last.result());
            }
            if (last.error() != null) {
                text.append(": ").append(last.error());
            }
            if (last.nextRetry() != null) {
                text.append("; retry at ").append(local.format(last.nextRetry()));
            }
        }
        return text.toString();
    }

    static String age(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 120) {
            return s + " s";
        }
        if (s < 7200) {
            return s / 60 + " min";
        }
        if (s < 172800) {
            return s / 3600 + " h " + (s % 3600) / 60 + " min";
        }
        return s / 86400 + " d " + (s % 86400) / 3600 + " h";
    }

    static String bytes(long n) {
        return n < 1024 ? n + " bytes" : ListCommand.humanBytes(n);
    }
}
