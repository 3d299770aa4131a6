// A command that ran but did not exit 0.
package io.zpitr.process;

/** A command ended with a non-zero exit status; carries argv, status and stderr. */
public class ProcessFailedException extends ProcessException {
    private final transient ProcessResult result;

    public ProcessFailedException(ProcessResult result) {
        super("'" + String.join(" ", result.argv()) + "' exited with status " + result.exitCode()
                + (result.stderr().isBlank() ? "" : ": " + result.stderr().strip()));
        this.result = result;
    }

    public ProcessResult result() {
        return result;
    }
}
