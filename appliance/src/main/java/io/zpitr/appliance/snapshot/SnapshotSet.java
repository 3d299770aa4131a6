// One zpitr snapshot set as the catalog knows it: a name shared by a snapshot on every configured dataset.
package io.zpitr.appliance.snapshot;

import io.zpitr.zfs.SnapshotName;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.SortedSet;

/**
 * A snapshot set, read back from the pool.
 *
 * @param id            the shared snapshot name, e.g. {@code zpitr-20261120T040100Z-nightly}
 * @param created       creation time of its first snapshot (exact seconds)
 * @param snapshots     its snapshots present, first configured dataset first
 * @param missing       configured datasets that lack this snapshot (a damaged set)
 * @param atomic        whether it was taken atomically (else ordered, pg_control's dataset first)
 * @param label         the label given, or null
 * @param source        where the PostgreSQL metadata came from ({@code standby}, {@code pg_controldata})
 * @param timeline      PostgreSQL timeline, or -1 if unknown
 * @param redoLsn       checkpoint redo LSN (WAL needed from here), or null
 * @param replayLsn     replay LSN at the snapshot (its consistent point), or null
 * @param replayTime    last replayed commit time at the snapshot, or null
 * @param systemId      the cluster's system identifier, or null
 * @param pgVersion     server_version_num, or 0
 * @param nextXid       first transaction id not completed at the snapshot, or -1
 * @param holds         hold tags on the set
 * @param holdCount     the largest user-hold count among its snapshots (ZFS's own count)
 * @param usedBytes     space used by its snapshots (what destroying them would free, roughly)
 * @param verifiedAt    when a drill last restored it, or null
 * @param verified      how that drill came out (passed, failed, not_restorable), or null
 * @param auditHead     the audit log's head when it was taken ({@code <line>:<sha256>}), or null
 */
public record SnapshotSet(
        String id,
        Instant created,
        List<SnapshotName> snapshots,
        List<String> missing,
        boolean atomic,
        String label,
        String source,
        long timeline,
        String redoLsn,
        String replayLsn,
        OffsetDateTime replayTime,
        String systemId,
        int pgVersion,
        long nextXid,
        SortedSet<String> holds,
        long holdCount,
        long usedBytes,
        Instant verifiedAt,
        String verified,
        String auditHead) {

    /** Prefix of a replication target's cursor hold tag: {@code zpitr-repl-<target>}. */
    public static final String REPLICATION_CURSOR_PREFIX = "zpitr-repl-";

    public boolean held() {
        return holdCount > 0;
    }

    /** The replication targets whose cursor hold is on this set. */
    public List<String> replicationCursors() {
        return holds.stream()
                .filter(t -> t.startsWith(REPLICATION_CURSOR_PREFIX))
                .map(t -> t.substring(REPLICATION_CURSOR_PREFIX.length()))
                .toList();
    }

    /**
     * The set as retention sees it. "Held" there means a hold other than the replication cursors
     * (a legal hold); a cursor is its own reason, "replication cursor dr1".
     */
    public io.zpitr.appliance.retention.RetentionCandidate retentionCandidate(boolean hasClones) {
        List<String> cursors = replicationCursors();
        return new io.zpitr.appliance.retention.RetentionCandidate(
                id, created, holdCount > cursors.size(), hasClones, cursors);
    }
}
