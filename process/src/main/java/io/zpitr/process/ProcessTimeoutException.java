// A command killed because it outlived its time limit.
package io.zpitr.process;

import java.time.Duration;
import java.util.List;

/** The command did not finish within its time limit and was killed. */
public class ProcessTimeoutException extends ProcessException {
    private final List<String> argv;

    public ProcessTimeoutException(List<String> argv, Duration limit, String stderr) {
        super("'" + String.join(" ", argv) + "' did not finish within " + limit.toMillis() + " ms and was killed"
                + (stderr.isBlank() ? "" : ": " + stderr.strip()));
        this.argv = argv;
    }

    public List<String> argv() {
        return argv;
    }
}
