// What a snapshot of several datasets produced, and whether it was atomic.
package io.zpitr.zfs;

import java.util.List;

/**
 * The snapshots made by {@link Zfs#snapshotSet}, in the order of the datasets given.
 *
 * @param snapshots one per dataset, first dataset first
 * @param atomicity whether all were made in one transaction group
 * @param method    how: "single dataset", "one multi-name zfs snapshot", "recursive snapshot of X",
 *                  or "ordered, first dataset first"
 */
public record SnapshotSetResult(List<SnapshotName> snapshots, Atomicity atomicity, String method) {
    public SnapshotSetResult {
        snapshots = List.copyOf(snapshots);
    }

    /** How the snapshots of a set relate in time. */
    public enum Atomicity {
        /** One transaction group: every dataset is captured at the same instant. */
        ATOMIC,
        /** One after the other, in the order given: later datasets may be slightly newer. */
        ORDERED
    }
}
