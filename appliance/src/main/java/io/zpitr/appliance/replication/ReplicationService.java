// `zpitr replicate` for one target: plans from both sides' lists, sends set by set, moves the cursor hold.
package io.zpitr.appliance.replication;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.snapshot.SnapshotCatalog;
import io.zpitr.appliance.snapshot.SnapshotProperties;
import io.zpitr.appliance.snapshot.SnapshotService;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.HoldTag;
import io.zpitr.zfs.SnapshotName;
import io.zpitr.zfs.Zfs;
import io.zpitr.zfs.ZfsEntry;
import io.zpitr.zfs.ZfsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Replicates the snapshot sets to one target.
 *
 * <ol>
 *   <li>Reaches the target's zfs (over ssh, or this machine's), checks that {@code dataset_root}
 *       exists, lists each landing's snapshots and decides a {@link ReplicationPlan}. A diverged
 *       target is refused here, before anything changes.</li>
 *   <li>Clears what an interrupted run left (unfinished copies), or, with {@code --force-rollback},
 *       rolls diverged landings back to the newest common set.</li>
 *   <li>Sends each set, oldest first: every dataset's snapshot (full for the first set, else
 *       incremental from the previous set), received unmounted where the target's zfs can; then the
 *       source's {@code zpitr:} properties on the target's snapshots, {@code zpitr:format} last (it
 *       marks the set complete). If anything of a set fails, what of it was received is destroyed
 *       and the run ends: the target keeps only whole sets.</li>
 *   <li>After each complete set, moves the cursor hold {@code zpitr-repl-<target>} on the source to
 *       it (held on the new set first, then released from the old one) and records the state.</li>
 * </ol>
 *
 * One run per target at a time ({@code <state_dir>/replication/<target>.lock}).
 */
public final class ReplicationService {
    /** The source properties copied to the target's snapshots; {@code zpitr:format} is written after them. */
    static final List<String> COPIED = SnapshotProperties.LISTED.stream()
            .filter(p -> p.startsWith("zpitr:")
                    && !p.equals(SnapshotProperties.HOLDS)
                    && !p.equals(SnapshotProperties.FORMAT))
            .toList();

    private final Zfs source;
    private final SnapshotCatalog catalog;
    private final SnapshotService snapshots;
    private final List<DatasetName> datasets;
    private final String zfsCommand;
    private final ProcessRunner runner;
    private final Path stateDir;
    private final Clock clock;

    ReplicationService(
            Zfs source,
            SnapshotCatalog catalog,
            SnapshotService snapshots,
            List<DatasetName> datasets,
            String zfsCommand,
            ProcessRunner runner,
            Path stateDir,
            Clock clock) {
        this.source = source;
        this.catalog = catalog;
        this.snapshots = snapshots;
        this.datasets = List.copyOf(datasets);
        this.zfsCommand = zfsCommand;
        this.runner = runner;
        this.stateDir = stateDir;
        this.clock = clock;
    }

    /** The service for the appliance's configuration. */
    public static ReplicationService of(Appliance appliance) {
        return new ReplicationService(
                appliance.zfs(),
                appliance.catalog(),
                appliance.snapshots(),
                appliance.settings().datasets(),
                appliance.settings().zfsCommand(),
                appliance.runner(),
                appliance.settings().stateDir(),
                appliance.clock());
    }

    /** One set sent: its id, the set it was sent incrementally from (null: full), bytes and time. */
    public record SetSent(String id, String from, long bytes, Duration took) {}

    /** What a run did on one target. */
    public record Result(
            ReplicationTarget target, ReplicationPlan plan, List<SetSent> sent, String cursor, boolean dryRun) {
        public long bytes() {
            return sent.stream().mapToLong(SetSent::bytes).sum();
        }
    }

    /**
     * Replicates to {@code target}.
     *
     * @param progress told one line per step, as it happens
     * @throws io.zpitr.appliance.error.ZpitrException {@code setup-invalid} when dataset_root does not exist
     *         on the target, {@code replica-diverged}, {@code locked} (nothing changed in each case), or
     *         {@code replication-failed} when the target cannot be reached or a set failed
     */
    public Result replicate(
            ReplicationTarget target, boolean dryRun, boolean forceRollback, Consumer<String> progress) {
        try (FileChannel lock = locked(target)) {
            return run(target, dryRun, forceRollback, progress);
        } catch (SetFailedException e) {
            throw e.reported;
        } catch (RuntimeException e) {
            if (!dryRun) {
                // Not reached, refused or diverged: the target still holds what the last run left.
                ReplicationState before =
                        ReplicationState.read(stateDir, target.name()).orElse(null);
                new ReplicationState(
                                target.name(),
                                clock.instant().toString(),
                                "failed",
                                firstLine(e),
                                0,
                                0,
                                before == null ? null : before.newestSet(),
                                before == null ? null : before.newestSetCreated())
                        .write(stateDir);
            }
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A set failed and its state is recorded already; carries the exception for the caller. */
    private static final class SetFailedException extends RuntimeException {
        final ReplicationFailedException reported;

        SetFailedException(ReplicationFailedException reported) {
            super(reported.getMessage(), reported, false, false);
            this.reported = reported;
        }
    }

    private Result run(ReplicationTarget target, boolean dryRun, boolean forceRollback, Consumer<String> progress) {
        if (target.type() == ReplicationTarget.Type.LOCAL) {
            return run(target, source, dryRun, forceRollback, progress);
        }
        try (SshZfsLauncher ssh = new SshZfsLauncher(
                target,
                runner,
                ReplicationState.file(stateDir, target.name()).resolveSibling(target.name() + ".ssh"))) {
            return run(target, reach(target, ssh), dryRun, forceRollback, progress);
        }
    }

    private Result run(
            ReplicationTarget target, Zfs there, boolean dryRun, boolean forceRollback, Consumer<String> progress) {
        if (!there.exists(target.datasetRoot())) {
            throw ZpitrError.SETUP_INVALID.exception("replication target " + target.describe() + ": dataset_root "
                    + target.datasetRoot()
                    + " does not exist there\nHINT: create it on the target (zfs create -p " + target.datasetRoot()
                    + "), or correct replication.targets[].dataset_root");
        }
        List<SnapshotSet> sets =
                catalog.list().stream().filter(s -> s.missing().isEmpty()).toList();
        Map<String, SnapshotSet> byId = new LinkedHashMap<>();
        sets.forEach(s -> byId.put(s.id(), s));
        List<ReplicationPlan.Landing> landings = new ArrayList<>();
        for (DatasetName d : datasets) {
            landings.add(landing(there, target, target.landing(d)));
        }
        ReplicationPlan plan = ReplicationPlan.decide(List.copyOf(byId.keySet()), landings, forceRollback);
        if (plan.divergence().isPresent()) {
            throw ZpitrError.REPLICA_DIVERGED.exception(
                    "replication target " + target.describe() + " has diverged from the source: "
                            + plan.divergence().get() + "; nothing was changed"
                            + "\nHINT: if the target's own snapshots there may be discarded, run zpitr replicate --target "
                            + target.name() + " --force-rollback");
        }
        if (dryRun) {
            return new Result(target, plan, List.of(), plan.base().orElse(null), true);
        }
        for (SnapshotName s : plan.destroySnapshots()) {
            progress.accept(target.name() + ": destroying " + s + " (unfinished copy of an interrupted run)");
            there.destroy(s);
        }
        for (DatasetName d : plan.destroyDatasets()) {
            progress.accept(target.name() + ": destroying " + d
                    + (forceRollback
                            ? " (diverged, --force-rollback)"
                            : " (unfinished first copy of an interrupted run)"));
            there.destroy(d, true);
        }
        for (SnapshotName s : plan.rollbacks()) {
            progress.accept(
                    target.name() + ": rolling " + s.dataset() + " back to " + s.shortName() + " (--force-rollback)");
            there.rollback(s, true);
        }
        Map<String, SnapshotSet> held = new LinkedHashMap<>();
        sets.stream()
                .filter(s -> s.holds().contains(target.cursorTag().value()))
                .forEach(s -> held.put(s.id(), s));
        String cursor = plan.base().orElse(null);
        if (cursor != null) {
            moveCursor(target.cursorTag(), byId.get(cursor), held);
        }
        List<SetSent> sent = new ArrayList<>();
        String from = cursor;
        for (String id : plan.toSend()) {
            long start = System.nanoTime();
            long bytes;
            try {
                bytes = sendSet(there, target, id, from, progress);
            } catch (RuntimeException e) {
                record(target, "failed", firstLine(e), sent, cursor, byId);
                throw new SetFailedException(new ReplicationFailedException(
                        "replication to " + target.describe() + " failed in set " + id + ": "
                                + String.valueOf(e.getMessage()).strip() + "\nthe target keeps every set before it"
                                + (cursor == null ? "" : " (newest: " + cursor + ")")
                                + "; the next run resumes from there"
                                + "\nHINT: is the target host up and its pool healthy? zpitr check, and the target's own zfs list",
                        e));
            }
            SetSent done = new SetSent(id, from, bytes, Duration.ofNanos(System.nanoTime() - start));
            sent.add(done);
            moveCursor(target.cursorTag(), byId.get(id), held);
            cursor = id;
            from = id;
            record(target, "running", null, sent, cursor, byId);
            progress.accept(target.name() + ": " + id + " complete ("
                    + (done.from() == null ? "full" : "incremental from " + done.from()) + ", " + bytes + " bytes in "
                    + done.took().toMillis() + " ms)");
        }
        record(target, "ok", null, sent, cursor, byId);
        return new Result(target, plan, List.copyOf(sent), cursor, false);
    }

    /** Sends every dataset's snapshot of {@code id} and writes its properties; on failure, destroys what arrived. */
    private long sendSet(Zfs there, ReplicationTarget target, String id, String from, Consumer<String> progress) {
        Map<String, String> props = sourceProperties(id);
        List<SnapshotName> received = new ArrayList<>();
        List<DatasetName> created = new ArrayList<>();
        long bytes = 0;
        try {
            for (DatasetName d : datasets) {
                DatasetName landing = target.landing(d);
                if (from == null) {
                    landing.parent().filter(p -> !there.exists(p)).ifPresent(p -> there.create(p, Map.of(), true));
                }
                progress.accept(target.name() + ": sending " + d.snapshot(id)
                        + (from == null ? " (full)" : " (incremental from " + from + ")") + " to " + landing);
                bytes += source.sendTo(
                        d.snapshot(id), from == null ? null : d.snapshot(from), there, landing, false, true);
                received.add(landing.snapshot(id));
                if (from == null) {
                    created.add(landing);
                    // Nothing on the replica changes it between receives: a touched one would refuse the next
                    // increment.
                    there.setProperty(landing, "readonly", "on");
                }
            }
            Map<String, String> copied = new LinkedHashMap<>();
            for (String p : COPIED) {
                if (props.get(p) != null) {
                    copied.put(p, props.get(p));
                }
            }
            there.setUserProperties(received, copied);
            // Last and alone: its presence says every other property arrived.
            there.setUserProperties(
                    received, Map.of(SnapshotProperties.FORMAT, props.getOrDefault(SnapshotProperties.FORMAT, "1")));
            return bytes;
        } catch (RuntimeException e) {
            undo(there, from == null, created, received, target, e);
            throw e;
        }
    }

    /** All or nothing: a set's first copy goes with its datasets, a later one with its snapshots. */
    private static void undo(
            Zfs there,
            boolean full,
            List<DatasetName> created,
            List<SnapshotName> received,
            ReplicationTarget target,
            RuntimeException failure) {
        try {
            if (full) {
                for (DatasetName d : created) {
                    there.destroy(d, true);
                }
            } else {
                for (SnapshotName s : received) {
                    there.destroy(s);
                }
            }
        } catch (RuntimeException cleanup) {
            // The target is unreachable now; the next run's plan finds the unfinished copy and clears it.
            failure.addSuppressed(cleanup);
        }
    }

    private Map<String, String> sourceProperties(String id) {
        SnapshotName first = datasets.get(0).snapshot(id);
        for (ZfsEntry e : source.listSnapshots(datasets.get(0), false, SnapshotProperties.LISTED)) {
            if (e.name().equals(first.full())) {
                return e.properties();
            }
        }
        throw new ZfsException.NoSuchDatasetException(
                "snapshot " + first + " is gone from the source (pruned meanwhile?)", List.of(), 1, "");
    }

    private static ReplicationPlan.Landing landing(Zfs there, ReplicationTarget target, DatasetName landing) {
        List<ZfsEntry> entries;
        try {
            entries = there.list(
                    landing,
                    false,
                    Set.of(Zfs.Type.FILESYSTEM, Zfs.Type.VOLUME, Zfs.Type.SNAPSHOT),
                    List.of("createtxg", SnapshotProperties.FORMAT));
        } catch (ZfsException.NoSuchDatasetException e) {
            return ReplicationPlan.Landing.absent(landing);
        }
        List<ReplicationPlan.TargetSnapshot> snaps = entries.stream()
                .filter(ZfsEntry::isSnapshot)
                .sorted(Comparator.comparingLong(e -> e.longProperty("createtxg")))
                .map(e -> new ReplicationPlan.TargetSnapshot(
                        SnapshotName.parse(e.name()).shortName(),
                        e.property(SnapshotProperties.FORMAT).isPresent()))
                .toList();
        return new ReplicationPlan.Landing(landing, true, snaps);
    }

    /** The target's zfs over ssh, its dialect asked once. */
    private Zfs reach(ReplicationTarget target, SshZfsLauncher ssh) {
        try {
            return Zfs.detect(runner, zfsCommand, ssh);
        } catch (ZfsException e) {
            String err = e.stderr() == null ? "" : e.stderr().strip();
            throw new ReplicationFailedException(
                    "cannot run zfs on replication target " + target.describe() + ": "
                            + (err.isEmpty() ? e.getMessage() : err) + "\nHINT: " + sshHint(err, target),
                    e);
        }
    }

    private static String sshHint(String stderr, ReplicationTarget target) {
        if (stderr.contains("Host key verification failed") || stderr.contains("REMOTE HOST IDENTIFICATION")) {
            return "the host's key is not the one in " + target.knownHosts()
                    + "; verify its fingerprint with the host's" + " administrator, then add it (ssh-keyscan -p "
                    + target.port() + " " + target.host() + ")";
        }
        if (stderr.contains("Permission denied")) {
            return "is the public half of " + target.identityFile() + " in ~" + target.user()
                    + "/.ssh/authorized_keys there?";
        }
        if (stderr.contains("command not found") || stderr.contains("No such file")) {
            return "is ZFS installed on the target, and zfs on the PATH of " + target.user() + "?";
        }
        return "is the host up and sshd listening on " + target.hostAndPort()
                + "? connect_timeout and io_timeout bound the waits";
    }

    /**
     * Holds {@code to}, then releases the tag from every other set in {@code held} (the sets that
     * carried it when listed, plus those held since); {@code held} is updated.
     */
    private void moveCursor(HoldTag tag, SnapshotSet to, Map<String, SnapshotSet> held) {
        if (to == null) {
            return;
        }
        snapshots.hold(to, tag);
        for (SnapshotSet s : List.copyOf(held.values())) {
            if (!s.id().equals(to.id())) {
                snapshots.release(s, tag);
                held.remove(s.id());
            }
        }
        held.put(to.id(), to);
    }

    private void record(
            ReplicationTarget target,
            String outcome,
            String error,
            List<SetSent> sent,
            String cursor,
            Map<String, SnapshotSet> byId) {
        SnapshotSet newest = cursor == null ? null : byId.get(cursor);
        new ReplicationState(
                        target.name(),
                        clock.instant().toString(),
                        outcome,
                        error,
                        sent.stream().mapToLong(SetSent::bytes).sum(),
                        sent.size(),
                        cursor,
                        newest == null ? null : newest.created().toString())
                .write(stateDir);
    }

    private FileChannel locked(ReplicationTarget target) throws IOException {
        Path file = ReplicationState.file(stateDir, target.name()).resolveSibling(target.name() + ".lock");
        Files.createDirectories(file.getParent());
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            channel.close();
            throw ZpitrError.LOCKED.exception(
                    "another zpitr replicate to " + target.name() + " is running (it holds " + file
                            + ")\nHINT: wait for it to end; the daemon's schedule.replicate and a manual run share this lock");
        }
        return channel;
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank()
                ? e.getClass().getSimpleName()
                : m.strip().lines().findFirst().orElse(m);
    }
}
