// What a drill proved about one snapshot set: the evidence written to the audit log, the set and the output.
package io.zpitr.appliance.drill;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * @param name          the drill's restore name ({@code drill-<UTC time>})
 * @param snapshot      the snapshot set drilled
 * @param target        the recovery target, as described to people
 * @param reached       where replay stopped, as PostgreSQL said it
 * @param outcome       passed when every check passed or was not available; failed otherwise
 * @param checks        every check, in the order run
 * @param amcheckDigest {@code sha256:<hex>} of pg_amcheck's whole output (or the amcheck functions' findings)
 * @param timings       milliseconds from the drill's start: queryable (the restore is done), checked, done
 * @param kept          whether the clone was kept ({@code --keep})
 * @param connect       how to connect to a kept clone, else null
 * @param at            when the drill finished
 */
public record DrillResult(
        String name,
        String snapshot,
        String target,
        String reached,
        Outcome outcome,
        List<CheckResult> checks,
        String amcheckDigest,
        Map<String, Long> timings,
        boolean kept,
        String connect,
        Instant at) {
    /** A drill's verdict, as {@code zpitr:verified_outcome} records it. */
    public enum Outcome {
        passed,
        failed,
        not_restorable
    }

    /** The drill as its audit line's details and {@code zpitr drill --format json} give it (docs/drills.md). */
    public Map<String, Object> fields() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", name);
        d.put("snapshot", snapshot);
        d.put("target", target);
        d.put("reached", reached);
        d.put("result", outcome.name());
        d.put(
                "checks",
                checks.stream()
                        .map(c -> {
                            Map<String, Object> m = new LinkedHashMap<>();
                            m.put("name", c.name());
                            m.put("status", c.status().name());
                            m.put("detail", c.detail());
                            m.put("ms", c.millis());
                            return m;
                        })
                        .toList());
        d.put("amcheck_digest", amcheckDigest);
        d.put("timings_ms", timings);
        d.put("kept", kept);
        d.put("connect", connect);
        d.put("at", at.toString());
        return d;
    }
}
