// The auditor's report as `zpitr report --format json` prints it; the field names are documented in docs/report.md.
package io.zpitr.appliance.report;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Stable field names, times as ISO-8601 UTC text. */
public final class ReportJson {
    private ReportJson() {}

    public static Map<String, Object> fields(AuditorReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("generated", text(r.generated()));
        m.put("host", r.host());
        m.put("config_file", r.configFile());
        m.put("config_digest", r.configDigest());
        m.put("version", r.version());
        m.put(
                "snapshot_sets",
                r.sets().stream()
                        .map(s -> {
                            Map<String, Object> x = new LinkedHashMap<>();
                            x.put("id", s.id());
                            x.put("created", text(s.created()));
                            x.put("consistent_at", text(s.consistentAt()));
                            x.put("timeline", s.timeline() < 0 ? null : s.timeline());
                            x.put("replay_lsn", s.replayLsn());
                            x.put("holds", s.holds());
                            x.put("retention", s.retention());
                            x.put("retention_class", s.retentionClass());
                            x.put("verified_at", text(s.verifiedAt()));
                            x.put("verified_outcome", s.verified());
                            x.put("overdue", s.overdue());
                            x.put("used_bytes", s.usedBytes());
                            return x;
                        })
                        .toList());
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("earliest", text(r.window().earliest()));
        w.put("earliest_from", r.window().earliestFrom());
        w.put("latest", text(r.window().latest()));
        w.put("latest_from", r.window().latestFrom());
        w.put(
                "gaps",
                r.gaps().stream()
                        .map(g -> {
                            Map<String, Object> x = new LinkedHashMap<>();
                            x.put("from", text(g.from()));
                            x.put("to", text(g.to()));
                            x.put("after_set", g.afterSet());
                            x.put("missing_segment", g.missingSegment());
                            return x;
                        })
                        .toList());
        w.put("gaps_checked", r.gapsChecked());
        m.put("recoverable_window", w);
        m.put(
                "drills",
                r.drills().stream()
                        .map(d -> {
                            Map<String, Object> x = new LinkedHashMap<>();
                            x.put("at", text(d.at()));
                            x.put("snapshot", d.snapshot());
                            x.put("target", d.target());
                            x.put("result", d.result());
                            x.put("failed_checks", d.failedChecks());
                            x.put("amcheck_digest", d.amcheckDigest());
                            x.put("duration_ms", d.durationMs());
                            return x;
                        })
                        .toList());
        m.put(
                "archive_hosts",
                r.hosts().stream()
                        .map(h -> {
                            Map<String, Object> x = new LinkedHashMap<>();
                            x.put("name", h.name());
                            x.put("type", h.type());
                            x.put("location", h.location());
                            x.put("state", h.state());
                            x.put("detail", h.detail());
                            return x;
                        })
                        .toList());
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("intact", r.audit().intact());
        a.put("lines", r.audit().lines());
        a.put("head", r.audit().head());
        a.put("message", r.audit().message());
        a.put("newest_anchor", r.audit().newestAnchor());
        a.put("anchor_problems", r.audit().anchorProblems());
        m.put("audit", a);
        io.zpitr.appliance.drill.DrillRotation.Coverage c = r.drillCoverage();
        Map<String, Object> proof = new LinkedHashMap<>();
        proof.put(
                "prove_within",
                c.proveWithin()
                        .map(io.zpitr.appliance.drill.DrillRotation::text)
                        .orElse(null));
        proof.put("sets", c.sets());
        proof.put("never_drilled", c.neverProven());
        proof.put("overdue", c.proveWithin().isEmpty() ? null : c.overdue().size());
        proof.put("overdue_sets", c.overdue());
        proof.put("runs_within_period", c.runsWithinPeriod().orElse(null));
        proof.put("keeps_up", c.keepsUp());
        proof.put("summary", c.summary());
        m.put("drill_coverage", proof);
        return m;
    }

    private static String text(Instant t) {
        return t == null ? null : t.toString();
    }
}
