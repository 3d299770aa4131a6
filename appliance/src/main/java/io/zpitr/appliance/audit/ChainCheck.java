// The result of checking the audit log's hash chain: intact, missing, or the first bad line and why.
package io.zpitr.appliance.audit;

import java.nio.file.Path;

/**
 * What {@link AuditLog#verify()} found.
 *
 * @param file    the log
 * @param exists  false when there is no log yet (not an error: nothing was audited)
 * @param lines   how many lines the file holds, a partial last line included
 * @param badLine the first line found bad (1-based), or 0 when the chain is intact
 * @param problem what is wrong with {@code badLine}, or null
 * @param hint    what the operator can do about it, or null
 * @param head    the SHA-256 of the last line when intact (null otherwise, or when empty): record
 *                it elsewhere to detect later removal of the newest lines, which no chain can
 */
public record ChainCheck(
        Path file, boolean exists, long lines, long badLine, String problem, String hint, String head) {
    static ChainCheck missing(Path file) {
        return new ChainCheck(file, false, 0, 0, null, null, null);
    }

    /** True when every line parses and links to the one before it (and when there is no log). */
    public boolean intact() {
        return problem == null;
    }

    /**
     * One line for people: {@code audit log FILE: N lines, chain intact},
     * {@code audit log FILE: line N: <problem>}, or {@code no audit log at FILE yet}.
     */
    public String message() {
        if (!exists) {
            return "no audit log at " + file + " yet";
        }
        if (intact()) {
            return "audit log " + file + ": " + lines + (lines == 1 ? " line" : " lines") + ", chain intact";
        }
        return "audit log " + file + ": line " + badLine + ": " + problem;
    }
}
