// The audit log cannot be written or read; the message names the file and, where known, the line.
package io.zpitr.appliance.audit;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.error.ZpitrException;

/**
 * The audit log refused an append (its last line is partial or damaged) or could not be read or
 * written: catalog entry {@link ZpitrError#AUDIT_LOG}, exit 1; the message carries a {@code HINT:}.
 */
public class AuditLogException extends ZpitrException {
    AuditLogException(String message) {
        super(ZpitrError.AUDIT_LOG, message);
    }

    AuditLogException(String message, Throwable cause) {
        super(ZpitrError.AUDIT_LOG, message, cause);
    }
}
