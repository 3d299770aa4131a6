// What the operator (or the daemon's schedule) asked a drill to do.
package io.zpitr.appliance.drill;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.restore.RecoveryTarget;
import java.time.Duration;
import java.util.Optional;

/**
 * @param pick     which set: a named one, the oldest, the newest, or (DEFAULT) the newest, or for a
 *                 time target the newest before it
 * @param snapshot the set's id when {@code pick} is ID
 * @param target   where replay stops; {@code --immediate} by default: the set's own consistent point
 * @param keep     keep the clone and its running instance afterwards
 * @param ttl      with keep: when the daemon may drop it
 */
public record DrillRequest(
        Pick pick, Optional<String> snapshot, RecoveryTarget target, boolean keep, Optional<Duration> ttl) {
    /** How the set is chosen. */
    public enum Pick {
        DEFAULT,
        ID,
        OLDEST,
        NEWEST
    }

    public DrillRequest {
        if (pick == Pick.ID && snapshot.isEmpty()) {
            throw ZpitrError.INVALID_ARGUMENT.exception("a drill of a named set needs its id");
        }
        if (ttl.isPresent() && !keep) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    "--ttl applies to a kept drill clone only\nHINT: add --keep, or leave --ttl out");
        }
    }
}
