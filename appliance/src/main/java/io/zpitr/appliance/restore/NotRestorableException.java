// The target cannot be restored: no snapshot before it, WAL missing, or replay ended before it. Exit 3.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.error.ZpitrException;

/** Catalog entry {@link ZpitrError#NOT_RESTORABLE}: the message says what is missing and what to do. */
public class NotRestorableException extends ZpitrException {
    public NotRestorableException(String message) {
        super(ZpitrError.NOT_RESTORABLE, message);
    }
}
