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
 * @param replicationCursors the replication targets whose cursor hold is on the set (it is their
 *                  incremental base: destroying it would force a full copy)
 */
public record RetentionCandidate(
        String id, Instant created, boolean held, boolean hasClones, java.util.List<String> replicationCursors) {
    public RetentionCandidate {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(created, "created");
        if (id.isBlank()) {
            throw new IllegalArgumentException("a snapshot set id must not be blank");
        }
        replicationCursors = java.util.List.copyOf(replicationCursors);
    }

    /** A set no replication cursor holds. */
    public RetentionCandidate(String id, Instant created, boolean held, boolean hasClones) {
        this(id, created, held, hasClones, java.util.List.of());
    }

    /** An unprotected set: no hold, no clones. */
    public static RetentionCandidate of(String id, Instant created) {
        return new RetentionCandidate(id, created, false, false);
    }
}
