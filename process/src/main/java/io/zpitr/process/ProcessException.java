// Base of every failure to run an external command.
package io.zpitr.process;

/** An external command could not be run, timed out, or failed. */
public class ProcessException extends RuntimeException {
    public ProcessException(String message) {
        super(message);
    }

    public ProcessException(String message, Throwable cause) {
        super(message, cause);
    }
}
