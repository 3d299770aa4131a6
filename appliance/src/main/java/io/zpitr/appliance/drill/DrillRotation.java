// Which retained snapshot set a scheduled drill proves next: the one proven longest ago.
package io.zpitr.appliance.drill;

import io.zpitr.appliance.snapshot.SnapshotSet;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Pure over the sets: one never drilled comes first (the oldest of those, the closest to being
 * pruned unproven), else the one whose last drill is oldest. Drilling the result on every run
 * rotates through all retained sets, so N sets are each proven within N runs.
 */
public final class DrillRotation {
    private DrillRotation() {}

    public static Optional<SnapshotSet> next(List<SnapshotSet> sets) {
        return sets.stream()
                .min(Comparator.comparing((SnapshotSet s) -> s.verifiedAt() == null ? Instant.MIN : s.verifiedAt())
                        .thenComparing(SnapshotSet::created));
    }
}
