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
public record RestorePlan(
        SnapshotSet base,
        RecoveryTarget target,
        String firstSegment,
        String requiredThrough,
        String lastAvailable,
        int segmentsFound,
        boolean bounded) {
    /**
     * What the restore needs from the archive, never less than it is: up to the consistent point
     * (or target LSN) for certain; where a time, transaction or name lies in WAL only replay finds
     * out, so for those the whole run the archive holds is what replay may read.
     */
    public String describeWal() {
        String run = "the archive holds an unbroken run from it through " + lastAvailable + (bounded ? " at least" : "")
                + " (" + segmentsFound + " segment(s) checked)";
        String from = "from " + firstSegment + " (redo " + base.redoLsn() + "); ";
        if (target instanceof RecoveryTarget.Immediate) {
            return from + "needed through " + requiredThrough + " (the snapshot's consistent point); " + run;
        }
        if (target instanceof RecoveryTarget.AtLsn) {
            return from + "needed through " + requiredThrough + " (the target LSN); " + run;
        }
        if (target instanceof RecoveryTarget.Latest) {
            return from + "replay reads all of it: " + run;
        }
        return from + "needed through at least " + requiredThrough
                + " (the snapshot's consistent point), then on to the" + " target, wherever it lies: " + run;
    }
}
