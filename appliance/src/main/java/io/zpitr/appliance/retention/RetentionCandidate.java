// One snapshot set as retention sees it: a name, a creation time and what protects it.
package io.zpitr.appliance.retention;

import java.time.Instant;
import java.util.Objects;

/**
 * A snapshot set offered to {@link RetentionPolicy#decide}. Retention chooses by {@code created}
 * alone; {@code held} and {@code hasClones} only protect a set from being destroyed, they never
 * change which other sets the calendar classes choose.
 *
 * @param id        the set's name (unique within one call), e.g. {@code zpitr-20261120T040100Z}
 * @param created   when the set was taken
 * @param held      the set has at least one ZFS user hold (a legal hold)
 * @param hasClones a restore clone depends on the set
 */
public record RetentionCandidate(String id, Instant created, boolean held, boolean hasClones) {
    public RetentionCandidate {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(created, "created");
        if (id.isBlank()) {
            throw new IllegalArgumentException("a snapshot set id must not be blank");
        }
    }

    /** An unprotected set: no hold, no clones. */
    public static RetentionCandidate of(String id, Instant created) {
        return new RetentionCandidate(id, created, false, false);
    }
}
