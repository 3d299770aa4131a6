// What each scheduled job does: the same services and the same audit lines as the CLI commands.
package io.zpitr.appliance.daemon;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.Actor;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.audit.Outcome;
import io.zpitr.appliance.drill.CheckResult;
import io.zpitr.appliance.drill.DrillRequest;
import io.zpitr.appliance.drill.DrillResult;
import io.zpitr.appliance.drill.DrillRotation;
import io.zpitr.appliance.drill.DrillService;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.restore.LauncherPath;
import io.zpitr.appliance.restore.RecoveryTarget;
import io.zpitr.appliance.snapshot.PruneService;
import io.zpitr.appliance.snapshot.SnapshotProperties;
import io.zpitr.appliance.snapshot.SnapshotService;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.zfs.SnapshotSetResult;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The bodies of the jobs. A snapshot job writes a {@code snapshot} line (ok or failed) exactly as
 * {@code zpitr snapshot} does; a prune job writes a {@code prune_destroy} line per set destroyed, or
 * one failed line, exactly as {@code zpitr prune} does. Their {@code command} is
 * {@code ["daemon", "<job>-job"]} and their details name the job and its trigger. A failure is
 * rethrown: the caller records and retries it.
 */
final class JobActions {
    private final Appliance appliance;

    JobActions(Appliance appliance) {
        this.appliance = appliance;
    }

    /** Takes one snapshot set; returns its id. */
    String snapshot(String trigger) throws Exception {
        List<String> argv = JobKind.SNAPSHOT.auditCommand();
        Map<String, Object> known = new LinkedHashMap<>();
        known.put("label", null);
        known.put("hold", null);
        known.put("job", JobKind.SNAPSHOT.wireName());
        known.put("trigger", trigger);
        SnapshotService.Taken t;
        try {
            t = appliance
                    .snapshots()
                    .take(
                            null,
                            null,
                            appliance.standby()::position,
                            Actor.current().display(),
                            SnapshotProperties.auditHead(appliance.audit()));
        } catch (Exception e) {
            Map<String, Object> failure = new LinkedHashMap<>(known);
            failure.put("error", firstLine(e));
            appliance.audit().append(AuditEvent.SNAPSHOT, argv, Outcome.FAILED, failure);
            throw e;
        }
        Map<String, Object> d = new LinkedHashMap<>(known);
        d.put("id", t.id());
        d.put("snapshots", t.result().snapshots().stream().map(Object::toString).toList());
        d.put("atomic", t.result().atomicity() == SnapshotSetResult.Atomicity.ATOMIC);
        d.put("timeline", t.state().timeline());
        d.put("redo_lsn", t.state().redoLsn().toString());
        d.put("replay_lsn", t.state().replayLsn().toString());
        appliance.audit().append(AuditEvent.SNAPSHOT, argv, Outcome.OK, d);
        return t.id();
    }

    /** Applies retention; returns a one-line summary. */
    String prune(String trigger) {
        List<String> argv = JobKind.PRUNE.auditCommand();
        List<PruneService.Outcome> outcomes;
        try {
            outcomes = appliance.pruning().prune(o -> {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("id", o.set().id());
                d.put("created", o.set().created().toString());
                d.put("reason", o.decision().reasonText());
                d.put(
                        "snapshots",
                        o.set().snapshots().stream().map(Object::toString).toList());
                d.put("job", JobKind.PRUNE.wireName());
                d.put("trigger", trigger);
                appliance.audit().append(AuditEvent.PRUNE_DESTROY, argv, Outcome.OK, d);
            });
        } catch (RuntimeException e) {
            Map<String, Object> failure = new LinkedHashMap<>();
            failure.put("error", firstLine(e));
            failure.put("job", JobKind.PRUNE.wireName());
            failure.put("trigger", trigger);
            appliance.audit().append(AuditEvent.PRUNE_DESTROY, argv, Outcome.FAILED, failure);
            throw e;
        }
        long destroyed =
                outcomes.stream().filter(PruneService.Outcome::destroyed).count();
        long refused = outcomes.stream()
                .filter(o -> !o.decision().kept() && !o.destroyed())
                .count();
        return destroyed + " set(s) destroyed, " + (outcomes.size() - destroyed) + " kept"
                + (refused > 0 ? " (" + refused + " refused by ZFS)" : "");
    }

    /**
     * Drills one set per run, the one {@link DrillRotation} picks (an overdue set first, then the
     * set proven longest ago; one never drilled before the others), to its own consistent point, so
     * that the schedule rotates through every set. One per run keeps the job's length predictable:
     * it holds the one-job-at-a-time lock, and a snapshot due meanwhile waits for it. The drill
     * writes its own {@code drill} audit line; a drill whose checks failed, or a set that is not
     * restorable, is a failed job.
     */
    String drill(String trigger) throws Exception {
        SnapshotSet next = DrillRotation.next(
                        appliance.catalog().list(),
                        appliance.settings().drillProveWithin(),
                        appliance.clock().instant())
                .orElseThrow(() -> ZpitrError.SET_NOT_FOUND.exception(
                        "there is no snapshot set to drill\nHINT: schedule.snapshot takes them"));
        DrillResult r = new DrillService(appliance, new PrintWriter(new StringWriter()), false, LauncherPath.find())
                .drill(
                        new DrillRequest(
                                DrillRequest.Pick.ID,
                                Optional.of(next.id()),
                                new RecoveryTarget.Immediate(),
                                false,
                                Optional.empty()),
                        JobKind.DRILL.auditCommand());
        String summary = "drill of " + next.id() + " " + r.outcome() + " in "
                + r.timings().get("done") + " ms";
        if (r.outcome() != DrillResult.Outcome.passed) {
            // The first line of each failed check's finding: pg_amcheck's names the relation on its second.
            throw ZpitrError.FAILED.exception(summary + ": "
                    + String.join(
                            "; ",
                            r.checks().stream()
                                    .filter(CheckResult::failed)
                                    .map(c -> c.name() + ": "
                                            + c.detail()
                                                    .lines()
                                                    .skip(c.detail().lines().count() > 1 ? 1 : 0)
                                                    .findFirst()
                                                    .orElse(""))
                                    .toList()));
        }
        return summary;
    }

    /** Replicates to every target; a failed target fails the job after the others ran. */
    String replicate(String trigger) {
        List<String> argv = JobKind.REPLICATE.auditCommand();
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("job", JobKind.REPLICATE.wireName());
        extra.put("trigger", trigger);
        io.zpitr.appliance.replication.ReplicationService service =
                io.zpitr.appliance.replication.ReplicationService.of(appliance);
        List<String> done = new java.util.ArrayList<>();
        List<String> failed = new java.util.ArrayList<>();
        RuntimeException first = null;
        for (io.zpitr.appliance.replication.ReplicationTarget t :
                appliance.settings().replication().select(null)) {
            try {
                done.addAll(io.zpitr.appliance.replication.ReplicationRun.audited(
                        appliance, service, t, false, false, argv, extra, line -> {}));
            } catch (RuntimeException e) {
                failed.add(t.name() + ": " + firstLine(e));
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw ZpitrError.REPLICATION_FAILED.exception("replication failed for " + String.join("; ", failed), first);
        }
        return String.join("; ", done);
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank()
                ? e.getClass().getSimpleName()
                : m.lines().findFirst().orElse(m);
    }
}
