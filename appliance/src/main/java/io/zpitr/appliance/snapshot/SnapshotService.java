// Takes PostgreSQL-aware snapshot sets and places or removes holds on them.
package io.zpitr.appliance.snapshot;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.postgres.PgState;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.HoldTag;
import io.zpitr.zfs.SnapshotName;
import io.zpitr.zfs.SnapshotSetResult;
import io.zpitr.zfs.Zfs;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The snapshot life cycle: one consistent set of all configured datasets with PostgreSQL's position
 * recorded on it at creation, and holds on every snapshot of a set. A lock in {@code state_dir}
 * keeps a manual and a scheduled snapshot from running at once.
 */
public final class SnapshotService {
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    static final Duration LOCK_WAIT = Duration.ofSeconds(60);

    private final Zfs zfs;
    private final List<DatasetName> datasets;
    private final String prefix;
    private final Path stateDir;
    private final Clock clock;

    public SnapshotService(Zfs zfs, List<DatasetName> datasets, String prefix, Path stateDir, Clock clock) {
        this.zfs = zfs;
        this.datasets = List.copyOf(datasets);
        this.prefix = prefix;
        this.stateDir = stateDir;
        this.clock = clock;
    }

    /** What a snapshot produced. */
    public record Taken(String id, SnapshotSetResult result, PgState state) {}

    /**
     * Takes one snapshot set now.
     *
     * @param label    optional, appended to the name
     * @param holdTag  optional, held on every snapshot of the set right after creation
     * @param pgState  reads PostgreSQL's position; called with the lock held, just before the snapshot
     */
    public Taken take(String label, HoldTag holdTag, Supplier<PgState> pgState, String createdBy) throws IOException {
        return take(label, holdTag, pgState, createdBy, Map.of());
    }

    /**
     * As {@link #take(String, HoldTag, Supplier, String)}, with more {@code zpitr:} properties on
     * every snapshot (the audit log's head, {@code zpitr:audit_head}).
     */
    public Taken take(
            String label, HoldTag holdTag, Supplier<PgState> pgState, String createdBy, Map<String, String> more)
            throws IOException {
        if (datasets.isEmpty()) {
            throw new ConfigException("zfs.datasets is empty: nothing to snapshot");
        }
        if (label != null && !LABEL.matcher(label).matches()) {
            throw ZpitrError.INVALID_ARGUMENT.exception("label '" + label + "' must be 1-64 letters, digits and _ . -");
        }
        try (FileChannel locked = lockedChannel()) {
            PgState state = pgState.get();
            String id = prefix + "-" + STAMP.format(clock.instant()) + (label == null ? "" : "-" + label);
            Map<String, String> props = new LinkedHashMap<>();
            props.put(SnapshotProperties.FORMAT, "1");
            props.put(SnapshotProperties.SET, id);
            props.put(
                    SnapshotProperties.DATASETS,
                    String.join(",", datasets.stream().map(DatasetName::full).toList()));
            if (label != null) {
                props.put(SnapshotProperties.LABEL, label);
            }
            props.put(SnapshotProperties.SOURCE, state.source());
            props.put(SnapshotProperties.TIMELINE, Long.toString(state.timeline()));
            props.put(SnapshotProperties.REDO_LSN, state.redoLsn().toString());
            props.put(SnapshotProperties.CHECKPOINT_LSN, state.checkpointLsn().toString());
            props.put(SnapshotProperties.REPLAY_LSN, state.replayLsn().toString());
            if (state.replayTime() != null) {
                props.put(SnapshotProperties.REPLAY_TIME, state.replayTime().toString());
            }
            props.put(SnapshotProperties.SYSTEM_ID, state.systemId());
            if (state.nextXid() >= 0) {
                props.put(SnapshotProperties.NEXT_XID, Long.toString(state.nextXid()));
            }
            props.put(SnapshotProperties.PG_VERSION, Integer.toString(state.serverVersion()));
            props.put(SnapshotProperties.CREATED_BY, createdBy);
            // Atomicity is known only once ZFS has done it; "atomic" is what the caller asked for.
            props.put(SnapshotProperties.ATOMICITY, "atomic");
            props.putAll(more);
            SnapshotSetResult result = zfs.snapshotSet(datasets, id, props);
            if (result.atomicity() == SnapshotSetResult.Atomicity.ORDERED) {
                for (SnapshotName s : result.snapshots()) {
                    zfs.setUserProperty(s, SnapshotProperties.ATOMICITY, "ordered");
                }
            }
            if (holdTag != null) {
                hold(result.snapshots(), holdTag);
            }
            return new Taken(id, result, state);
        }
    }

    /** Holds every snapshot of the set; idempotent. */
    public void hold(SnapshotSet set, HoldTag tag) {
        hold(set.snapshots(), tag);
    }

    /** Releases the tag on every snapshot of the set; idempotent. */
    public void release(SnapshotSet set, HoldTag tag) {
        for (SnapshotName s : set.snapshots()) {
            zfs.release(s, tag);
            TreeSet<String> tags = tags(s);
            tags.remove(tag.value());
            writeTags(s, tags);
        }
    }

    private void hold(List<SnapshotName> snapshots, HoldTag tag) {
        for (SnapshotName s : snapshots) {
            zfs.hold(s, tag);
            TreeSet<String> tags = tags(s);
            tags.add(tag.value());
            writeTags(s, tags);
        }
    }

    private TreeSet<String> tags(SnapshotName s) {
        TreeSet<String> tags = new TreeSet<>();
        zfs.get(s, SnapshotProperties.HOLDS).ifPresent(v -> {
            for (String t : v.split(",")) {
                if (!t.isBlank()) {
                    tags.add(t);
                }
            }
        });
        return tags;
    }

    private void writeTags(SnapshotName s, TreeSet<String> tags) {
        if (tags.isEmpty()) {
            zfs.clearUserProperty(s, SnapshotProperties.HOLDS);
        } else {
            zfs.setUserProperty(s, SnapshotProperties.HOLDS, String.join(",", tags));
        }
    }

    /** The lock file's channel with its lock held; closing it releases the lock. */
    private FileChannel lockedChannel() throws IOException {
        Files.createDirectories(stateDir);
        FileChannel channel = FileChannel.open(
                stateDir.resolve("snapshot.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        long deadline = System.nanoTime() + LOCK_WAIT.toNanos();
        while (true) {
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return channel;
            }
            if (System.nanoTime() > deadline) {
                channel.close();
                throw ZpitrError.LOCKED.exception("another zpitr snapshot has held " + stateDir.resolve("snapshot.lock")
                        + " for " + LOCK_WAIT.toSeconds() + " s\nHINT: is a snapshot stuck? see the daemon's log");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                channel.close();
                throw ZpitrError.FAILED.exception("interrupted while waiting for the snapshot lock", e);
            }
        }
    }
}
