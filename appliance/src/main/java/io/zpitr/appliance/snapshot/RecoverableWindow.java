// The span of time a restore can reach: from the oldest snapshot's consistent point to the newest archived commit
// known.
package io.zpitr.appliance.snapshot;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * The recoverable window. Earliest: the oldest set's last replayed commit (a restore from it cannot
 * stop before its consistent point), or its creation when PostgreSQL reported none. Latest: the
 * standby's last replayed commit when it answers — the standby is fed from the archive, so that
 * WAL is there — else the newest set's.
 *
 * @param earliest     null when there is no set
 * @param earliestFrom what earliest comes from
 * @param latest       null when there is no set
 * @param latestFrom   what latest comes from
 */
public record RecoverableWindow(Instant earliest, String earliestFrom, Instant latest, String latestFrom) {

    public static RecoverableWindow of(List<SnapshotSet> setsOldestFirst, OffsetDateTime standbyReplayTime) {
        if (setsOldestFirst.isEmpty()) {
            return new RecoverableWindow(null, null, null, null);
        }
        SnapshotSet oldest = setsOldestFirst.get(0);
        SnapshotSet newest = setsOldestFirst.get(setsOldestFirst.size() - 1);
        Instant earliest = oldest.replayTime() != null ? oldest.replayTime().toInstant() : oldest.created();
        Instant latest;
        String latestFrom;
        if (standbyReplayTime != null) {
            latest = standbyReplayTime.toInstant();
            latestFrom = "standby's last replayed commit";
        } else {
            latest = newest.replayTime() != null ? newest.replayTime().toInstant() : newest.created();
            latestFrom = "newest snapshot " + newest.id() + "; standby not reachable";
        }
        return new RecoverableWindow(
                earliest, "oldest snapshot " + oldest.id(), latest.isBefore(earliest) ? earliest : latest, latestFrom);
    }
}
