// A replication run that did not complete: the target unreachable, diverged, or a set failed (exit 1).
package io.zpitr.appliance.replication;

/** Says which target, what failed and what the target still holds, with a {@code HINT:} line. */
public class ReplicationFailedException extends IllegalStateException {
    public ReplicationFailedException(String message) {
        super(message);
    }

    public ReplicationFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
