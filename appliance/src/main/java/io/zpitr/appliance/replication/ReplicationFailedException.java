// A replication run that did not complete: the target unreachable or a set failed (exit 1, replication-failed).
package io.zpitr.appliance.replication;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.error.ZpitrException;

/** Says which target, what failed and what the target still holds, with a {@code HINT:} line. */
public class ReplicationFailedException extends ZpitrException {
    public ReplicationFailedException(String message) {
        super(ZpitrError.REPLICATION_FAILED, message);
    }

    public ReplicationFailedException(String message, Throwable cause) {
        super(ZpitrError.REPLICATION_FAILED, message, cause);
    }
}
