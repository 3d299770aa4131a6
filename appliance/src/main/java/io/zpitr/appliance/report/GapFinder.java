// Finds the stretches of the recoverable window no restore reaches: archived WAL missing between two snapshot sets.
package io.zpitr.appliance.report;

import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Pure over the sets and an "is this segment archived" answer. A time between two sets' consistent
 * points is reached by restoring the earlier set and replaying WAL from its redo segment up to the
 * later set's; the first segment of that run the archive lacks makes the whole stretch
 * unreachable (the later set still reaches its own point and on). Sets on different timelines are
 * not compared, and a stretch longer than {@code limit} segments is not walked: both are said in
 * {@link Result#how}, never passed over silently.
 */
final class GapFinder {
    static final long SEGMENT_SIZE = 16L << 20;

    /** The gaps, and how they were looked for. */
    record Result(List<AuditorReport.Gap> gaps, String how) {}

    private final Predicate<WalFileName> archived;
    private final int limit;

    GapFinder(Predicate<WalFileName> archived, int limit) {
        this.archived = archived;
        this.limit = limit;
    }

    Result find(List<SnapshotSet> setsOldestFirst) {
        List<AuditorReport.Gap> gaps = new ArrayList<>();
        List<String> notWalked = new ArrayList<>();
        long walked = 0;
        for (int i = 0; i + 1 < setsOldestFirst.size(); i++) {
            SnapshotSet a = setsOldestFirst.get(i);
            SnapshotSet b = setsOldestFirst.get(i + 1);
            if (a.redoLsn() == null || b.redoLsn() == null || a.timeline() < 1 || a.timeline() != b.timeline()) {
                notWalked.add(a.id() + " to " + b.id() + " (timeline or position unknown or changed)");
                continue;
            }
            WalFileName segment = WalFileName.of(Lsn.parse(a.redoLsn()).walFileName(a.timeline(), SEGMENT_SIZE));
            WalFileName last = WalFileName.of(Lsn.parse(b.redoLsn()).walFileName(b.timeline(), SEGMENT_SIZE));
            long count = WalSegments.segmentNumber(last, SEGMENT_SIZE)
                    - WalSegments.segmentNumber(segment, SEGMENT_SIZE)
                    + 1;
            if (count > limit) {
                notWalked.add(a.id() + " to " + b.id() + " (" + count + " segments, more than " + limit + ")");
                continue;
            }
            for (long n = 0; n < count; n++) {
                walked++;
                if (!archived.test(segment)) {
                    gaps.add(new AuditorReport.Gap(consistentAt(a), consistentAt(b), a.id(), segment.name()));
                    break;
                }
                segment = WalSegments.next(segment, SEGMENT_SIZE);
            }
        }
        String how = walked + " archived segment(s) looked up between " + setsOldestFirst.size() + " set(s)"
                + (notWalked.isEmpty() ? "" : "; not walked: " + String.join("; ", notWalked));
        return new Result(List.copyOf(gaps), how);
    }

    static Instant consistentAt(SnapshotSet s) {
        return s.replayTime() != null ? s.replayTime().toInstant() : s.created();
    }
}
