// Where a PostgreSQL data directory stands in WAL, as recorded on each snapshot.
package io.zpitr.appliance.postgres;

import java.time.OffsetDateTime;

/**
 * PostgreSQL's position when a snapshot is taken.
 *
 * @param source          {@code standby} (asked over SQL) or {@code pg_controldata} (server down)
 * @param timeline        the timeline of the latest checkpoint (restartpoint on a standby)
 * @param redoLsn         the checkpoint's redo location: WAL from here on is needed to restore the snapshot
 * @param checkpointLsn   the checkpoint record's location
 * @param replayLsn       the last replayed location (standby) or the minimum recovery / checkpoint
 *                        location (server down); the snapshot cannot restore to a point before it
 * @param replayTime      the commit time of the last replayed transaction, if known
 * @param systemId        the cluster's system identifier
 * @param serverVersion   {@code server_version_num} (e.g. 150010), or the major times 10000 from pg_controldata
 * @param nextXid         the first transaction id not yet completed at the replay position (a
 *                        transaction with an id at or above it commits after the snapshot), or -1
 */
public record PgState(
        String source,
        long timeline,
        Lsn redoLsn,
        Lsn checkpointLsn,
        Lsn replayLsn,
        OffsetDateTime replayTime,
        String systemId,
        int serverVersion,
        long nextXid) {

    public int major() {
        return serverVersion / 10000;
    }
}
