// The auditor's report as data: what `zpitr report --format json` prints and what the HTML page draws.
package io.zpitr.appliance.report;

import io.zpitr.appliance.snapshot.RecoverableWindow;
import java.time.Instant;
import java.util.List;

/**
 * One look at what is retained, what was proven restorable, and how far the records can be trusted.
 *
 * @param generated    when the report was made
 * @param host         the appliance's host name
 * @param configFile   the configuration it was made with
 * @param configDigest {@code sha256:<hex>} of that file's bytes, so two reports can be told to come from one configuration
 * @param version      zpitr's version
 * @param sets         retained snapshot sets, oldest first
 * @param window       the recoverable window
 * @param gaps         stretches of the window that no set reaches because archived WAL is missing
 * @param gapsChecked  how the gaps were looked for (or why they could not be)
 * @param drills       drills from the audit log, oldest first
 * @param hosts        the archive sources and whether they answer now
 * @param audit        the audit log's hash chain check
 * @param drillCoverage the sets against {@code drill.prove_within}, and whether schedule.drill keeps up
 */
public record AuditorReport(
        Instant generated,
        String host,
        String configFile,
        String configDigest,
        String version,
        List<SetRow> sets,
        RecoverableWindow window,
        List<Gap> gaps,
        String gapsChecked,
        List<DrillRow> drills,
        List<HostRow> hosts,
        AuditRow audit,
        io.zpitr.appliance.drill.DrillRotation.Coverage drillCoverage) {

    /**
     * One snapshot set.
     *
     * @param consistentAt its consistent point (last replayed commit, else creation): the earliest time it reaches
     * @param retention    why retention keeps it (e.g. {@code daily 2026-11-21}), {@code prune candidate}, or null
     * @param verified     the last drill's outcome, or null when never drilled
     * @param overdue      whether it lacks a passed drill within {@code drill.prove_within}; null without a period
     */
    public record SetRow(
            String id,
            Instant created,
            Instant consistentAt,
            long timeline,
            String replayLsn,
            List<String> holds,
            String retention,
            Instant verifiedAt,
            String verified,
            Boolean overdue,
            long usedBytes) {
        /** The first retention class that keeps it ({@code keep_within}, {@code daily}, ...), or {@code none}. */
        public String retentionClass() {
            if (retention == null || retention.isBlank() || retention.equals("prune candidate")) {
                return "none";
            }
            return retention.split("[ ,]")[0];
        }
    }

    /** A stretch of time no restore can reach: WAL from {@code afterSet} on is missing from {@code missingSegment}. */
    public record Gap(Instant from, Instant to, String afterSet, String missingSegment) {}

    /** One drill, from its audit line. */
    public record DrillRow(
            Instant at,
            String snapshot,
            String target,
            String result,
            List<String> failedChecks,
            String amcheckDigest,
            Long durationMs) {
        public boolean passed() {
            return "passed".equals(result);
        }
    }

    /** One archive source. */
    public record HostRow(String name, String type, String location, String state, String detail) {}

    /**
     * @param intact whether the chain verified
     * @param lines  how many lines it has
     * @param head   the SHA-256 of its last line, or null
     * @param message what the verification said
     * @param newestAnchor the newest head anchored on a retained set ({@code set: line N, sha256}), or null
     * @param anchorProblems anchors no longer in the log (its newest lines cut off, or rewritten)
     */
    public record AuditRow(
            boolean intact,
            long lines,
            String head,
            String message,
            String newestAnchor,
            List<String> anchorProblems) {}
}
