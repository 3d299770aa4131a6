// A failure zpitr reports to its user: a catalog entry and a message that names what failed.
package io.zpitr.appliance.error;

import java.util.Objects;

/**
 * Raised for every failure a user is to read. The entry ({@link #error()}) decides the exit
 * status; the message says what failed, with which name, and may end in {@code HINT:} lines.
 */
public class ZpitrException extends RuntimeException {
    private final ZpitrError error;

    public ZpitrException(ZpitrError error, String message) {
        this(error, message, null);
    }

    public ZpitrException(ZpitrError error, String message, Throwable cause) {
        super(message, cause);
        this.error = Objects.requireNonNull(error, "error");
    }

    public ZpitrError error() {
        return error;
    }
}
