// The audit log's head anchored outside the log, on each snapshot set, so that cutting off its newest lines is
// detected.
package io.zpitr.appliance.audit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hash chain shows a changed or removed line, but not that its newest lines were cut off: the
 * shorter log is still a valid chain. So each snapshot set records the log's head when it is taken
 * ({@code zpitr:audit_head} = {@code <line>:<sha256 of that line>}), in the pool, out of the log's
 * reach; {@code audit --verify} then checks that every anchored line is still in the log with the
 * same hash. Cut-offs behind the newest retained anchor are found; lines written after it are not
 * (docs/audit-guide.md says what is and is not detected).
 *
 * @param set  the snapshot set carrying it
 * @param line the line number anchored
 * @param hash the SHA-256 of that line, in hex
 */
public record AuditAnchor(String set, long line, String hash) {
    private static final Pattern FORM = Pattern.compile("([1-9][0-9]{0,18}):([0-9a-f]{64})");

    /** The property value for the log as it is now: its last line and that line's hash; empty when there is no intact log. */
    public static Optional<String> current(AuditLog log) {
        ChainCheck check = log.verify();
        if (!check.exists() || !check.intact() || check.head() == null || check.lines() < 1) {
            return Optional.empty();
        }
        return Optional.of(check.lines() + ":" + check.head());
    }

    /** The anchor a set carries, or empty when it carries none or a damaged one (which {@link #check} reports). */
    public static Optional<AuditAnchor> parse(String set, String value) {
        if (value == null) {
            return Optional.empty();
        }
        Matcher m = FORM.matcher(value.strip());
        return m.matches()
                ? Optional.of(new AuditAnchor(set, Long.parseLong(m.group(1)), m.group(2)))
                : Optional.empty();
    }

    /**
     * Whether every anchor is in the log with its hash; one problem per anchor that is not, naming the set.
     *
     * @param anchors the sets' property values (set id and value)
     */
    public static List<String> check(AuditLog log, List<String[]> anchors) {
        List<AuditLog.Entry> entries = log.entries();
        List<String> problems = new ArrayList<>();
        for (String[] a : anchors) {
            Optional<AuditAnchor> anchor = parse(a[0], a[1]);
            if (anchor.isEmpty()) {
                problems.add("snapshot set " + a[0] + " carries a damaged audit anchor '" + a[1] + "'");
                continue;
            }
            AuditAnchor x = anchor.get();
            if (x.line() > entries.size()) {
                problems.add(
                        "snapshot set " + x.set() + " anchored line " + x.line() + " of the audit log, which now has "
                                + entries.size() + " line(s): its newest lines were cut off");
                continue;
            }
            String text = entries.get((int) (x.line() - 1)).text();
            if (!AuditRecord.sha256Hex(text.getBytes(StandardCharsets.UTF_8)).equals(x.hash())) {
                problems.add("snapshot set " + x.set() + " anchored line " + x.line() + " with hash "
                        + x.hash().substring(0, 12)
                        + "…, but that line now hashes otherwise: the log was rewritten from there");
            }
        }
        return problems;
    }
}
