// What `zpitr status` reports: standby, primary, snapshots, recoverable window, archive sources, jobs, prefetchers.
package io.zpitr.appliance.status;

import io.zpitr.appliance.daemon.ScheduleState;
import io.zpitr.appliance.snapshot.RecoverableWindow;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.List;

/**
 * One look at the appliance's health. Every part is gathered on its own: a part that cannot be
 * read carries its error and the others are still reported.
 */
public record StatusReport(
        Instant time,
        ZoneId zone,
        Standby standby,
        Primary primary,
        Snapshots snapshots,
        List<ArchiveSource> archiveSources,
        List<Job> jobs,
        Long daemonPid,
        List<io.zpitr.appliance.wal.RunningPrefetchers.Running> prefetchers) {

    /** As the canonical constructor, with no prefetcher running. */
    public StatusReport(
            Instant time,
            ZoneId zone,
            Standby standby,
            Primary primary,
            Snapshots snapshots,
            List<ArchiveSource> archiveSources,
            List<Job> jobs,
            Long daemonPid) {
        this(time, zone, standby, primary, snapshots, archiveSources, jobs, daemonPid, List.of());
    }

    /**
     * The standby's replay position, over SQL.
     *
     * @param configured         whether postgres.standby is set
     * @param error              why it could not be asked, or null
     * @param inRecovery         false when the "standby" has been promoted
     * @param replayLsn          last WAL location replayed (the current location when not in recovery)
     * @param receiveLsn         last WAL location received by streaming, or null (archive-only standby)
     * @param lastReplayedCommit time of the last replayed commit, or null (none yet)
     * @param replayLagSeconds   {@code now() - pg_last_xact_replay_timestamp()} on the standby, or null;
     *                           grows on an idle primary although nothing is missing
     */
    public record Standby(
            boolean configured,
            String error,
            Boolean inRecovery,
            String replayLsn,
            String receiveLsn,
            OffsetDateTime lastReplayedCommit,
            Double replayLagSeconds) {
        public boolean reachable() {
            return configured && error == null;
        }
    }

    /**
     * The primary's position, when postgres.primary is set.
     *
     * @param currentLsn its current WAL location (its replay location, if it is itself in recovery)
     * @param lagBytes   how far the standby's replay is behind it, in bytes; null when either is unknown
     */
    public record Primary(boolean configured, String error, String currentLsn, Long lagBytes) {}

    /**
     * The snapshot catalog.
     *
     * @param error   why the pool could not be listed, or null
     * @param count   number of snapshot sets
     * @param lastId  the newest set's id, or null
     * @param lastCreated  the newest set's creation, or null
     * @param window  the recoverable window (empty window when there is no set)
     * @param drills  the sets against {@code drill.prove_within}, and whether schedule.drill keeps up; null
     *                when the pool could not be listed
     */
    public record Snapshots(
            String error,
            int count,
            String lastId,
            Instant lastCreated,
            RecoverableWindow window,
            io.zpitr.appliance.drill.DrillRotation.Coverage drills) {}

    /**
     * One archive source's reachability.
     *
     * @param state     {@code up}; {@code down} (did not answer now); {@code remembered-down} (skipped by
     *                  wal-fetch until {@code downUntil}, not asked now); {@code missing} or
     *                  {@code unreadable} (a local folder)
     * @param location  the folder, or {@code host:port}
     * @param detail    why it is not up, else empty
     * @param downUntil until when wal-fetch skips it, or null
     */
    public record ArchiveSource(
            String name, String type, String location, String state, String detail, Instant downUntil) {
        public boolean reachable() {
            return "up".equals(state);
        }
    }

    /**
     * One scheduled job.
     *
     * @param schedule  as configured, or null when not scheduled
     * @param error     why the schedule is invalid, or null
     * @param nextRun   its next scheduled time, or null
     * @param lastRun   its last run from the schedule state, or null (never run, no daemon yet)
     * @param stateError why the schedule state could not be read, or null
     */
    public record Job(
            String name,
            String schedule,
            String error,
            Instant nextRun,
            ScheduleState.JobRun lastRun,
            String stateError) {}
}
