// What a finished external process left behind: exit status, captured output, duration.
package io.zpitr.process;

import java.time.Duration;
import java.util.List;

/**
 * The outcome of a command that ran to its end (whatever its exit status).
 *
 * @param argv      what was run
 * @param exitCode  the exit status
 * @param stdout    captured stdout (empty when the command streamed it elsewhere)
 * @param stderr    captured stderr, at most the command's stderr limit
 * @param stderrTruncated whether stderr was longer than the limit
 * @param duration  wall time from start to exit
 */
public record ProcessResult(
        List<String> argv, int exitCode, String stdout, String stderr, boolean stderrTruncated, Duration duration) {

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Stdout split into lines, without the trailing empty line. */
    public List<String> stdoutLines() {
        return stdout.isEmpty() ? List.of() : stdout.lines().toList();
    }

    /** Throws {@link ProcessFailedException} unless the exit status is 0. */
    public ProcessResult requireSuccess() {
        if (!succeeded()) {
            throw new ProcessFailedException(this);
        }
        return this;
    }
}
