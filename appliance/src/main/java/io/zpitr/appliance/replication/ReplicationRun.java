// One audited replication of one target, as `zpitr replicate` and the daemon's replicate job both run it.
package io.zpitr.appliance.replication;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.audit.Outcome;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs {@link ReplicationService#replicate} and writes one {@code replicate} audit line: ok with the
 * sets sent, bytes and cursor, or failed with the error (then rethrown). A dry run changes nothing
 * and writes no audit line.
 */
public final class ReplicationRun {
    private ReplicationRun() {}

    /**
     * @param argv   the audit record's command
     * @param extra  more audit details (the daemon's job and trigger)
     * @return the summary lines to print after the progress lines
     */
    public static List<String> audited(
            Appliance appliance,
            ReplicationService service,
            ReplicationTarget target,
            boolean dryRun,
            boolean forceRollback,
            List<String> argv,
            Map<String, Object> extra,
            Consumer<String> progress) {
        Map<String, Object> known = new LinkedHashMap<>();
        known.put("target", target.name());
        known.put("force_rollback", forceRollback);
        known.putAll(extra);
        ReplicationService.Result r;
        try {
            r = service.replicate(target, dryRun, forceRollback, progress);
        } catch (RuntimeException e) {
            if (!dryRun) {
                Map<String, Object> failure = new LinkedHashMap<>(known);
                failure.put("error", ReplicationService.firstLine(e));
                appliance.audit().append(AuditEvent.REPLICATE, argv, Outcome.FAILED, failure);
            }
            throw e;
        }
        if (!dryRun) {
            Map<String, Object> d = new LinkedHashMap<>(known);
            d.put("sets", r.sent().stream().map(ReplicationService.SetSent::id).toList());
            d.put("bytes", r.bytes());
            d.put("cursor", r.cursor());
            appliance.audit().append(AuditEvent.REPLICATE, argv, Outcome.OK, d);
        }
        return summary(r);
    }

    /** What a run did, or with --dry-run would do, in a few lines. */
    static List<String> summary(ReplicationService.Result r) {
        String t = r.target().name();
        List<String> lines = new ArrayList<>();
        ReplicationPlan p = r.plan();
        if (r.dryRun()) {
            p.destroySnapshots().forEach(s -> lines.add(t + ": would destroy " + s + " (unfinished copy)"));
            p.destroyDatasets().forEach(d -> lines.add(t + ": would destroy " + d));
            p.rollbacks().forEach(s -> lines.add(t + ": would roll " + s.dataset() + " back to " + s.shortName()));
            String from = p.base().orElse(null);
            for (String id : p.toSend()) {
                lines.add(t + ": would send " + id + (from == null ? " (full)" : " (incremental from " + from + ")"));
                from = id;
            }
            lines.add(t + ": dry run: " + p.toSend().size() + " set(s) to send"
                    + p.base().map(b -> ", newest common set " + b).orElse(", no common set (first copy)"));
            return lines;
        }
        lines.add(t + ": "
                + (r.sent().isEmpty() ? "up to date" : r.sent().size() + " set(s) sent, " + r.bytes() + " bytes")
                + (r.cursor() == null
                        ? "; no set replicated yet"
                        : "; newest replicated set " + r.cursor() + " (cursor hold "
                                + r.target().cursorTag() + ")"));
        return lines;
    }
}
