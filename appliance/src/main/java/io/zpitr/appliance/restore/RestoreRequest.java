// What the operator asked a restore to do.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.error.ZpitrError;

/**
 * @param name       the restore's name (its datasets and folder), validated
 * @param port       the port asked for, or 0 for the first free from restore.port
 * @param action     what to do at the target
 * @param exclusive  stop just before the target rather than just after
 * @param keepFailed keep the clones of a failed restore for inspection
 * @param expiresAt  when the daemon may drop it ({@code --ttl}, {@code restore.default_ttl}), or null: never
 */
public record RestoreRequest(
        String name, int port, Action action, boolean exclusive, boolean keepFailed, java.time.Instant expiresAt) {
    /** What the instance does once replay reaches the target. */
    public enum Action {
        promote,
        pause,
        shutdown
    }

    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9_-]{0,47}");

    /** A request that never expires. */
    public RestoreRequest(String name, int port, Action action, boolean exclusive, boolean keepFailed) {
        this(name, port, action, exclusive, keepFailed, null);
    }

    public RestoreRequest {
        if (!NAME.matcher(name).matches()) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    "restore name '" + name + "' must be 1-48 lower-case letters, digits, _ and -");
        }
        if (port < 0 || port > 65535) {
            throw ZpitrError.INVALID_ARGUMENT.exception("port " + port + " is out of range");
        }
    }
}
