// What a restore will do, as --dry-run prints it: the base snapshot set and the WAL it needs.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.snapshot.SnapshotSet;

/**
 * A restore's plan.
 *
 * @param base            the snapshot set the clone starts from
 * @param target          where replay stops
 * @param firstSegment    the segment holding the set's redo LSN: replay needs WAL from here
 * @param requiredThrough the last segment that must exist (the consistent point's, or the target LSN's)
 * @param lastAvailable   the last segment of an unbroken run found on the sources from firstSegment on
 * @param segmentsFound   how many segments that run holds (checked up to a bound)
 * @param bounded         whether the scan stopped at its bound rather than at a missing segment
 */
public record RestorePlan(SnapshotSet base, RecoveryTarget target, String firstSegment, String requiredThrough,
                          String lastAvailable, int segmentsFound, boolean bounded) {
}
