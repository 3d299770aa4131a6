// The audit log cannot be written or read; the message names the file and, where known, the line.
package io.zpitr.appliance.audit;

/**
 * The audit log refused an append (its last line is partial or damaged) or could not be read or
 * written. An {@link IllegalStateException}: the log is in a state that needs an operator, and
 * the CLI prints the message (with its {@code HINT:} line) and exits 1.
 */
public class AuditLogException extends IllegalStateException {
    AuditLogException(String message) {
        super(message);
    }

    AuditLogException(String message, Throwable cause) {
        super(message, cause);
    }
}
