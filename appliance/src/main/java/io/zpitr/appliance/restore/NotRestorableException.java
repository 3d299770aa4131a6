// The target cannot be restored: no snapshot before it, WAL missing, or replay ended before it. Exit 3.
package io.zpitr.appliance.restore;

/** The documented exit status 3: the target is not restorable; the message says what to do. */
public class NotRestorableException extends RuntimeException {
    public NotRestorableException(String message) {
        super(message);
    }
}
