// Builds a point-in-time restore beside the live standby: plan, clone, configure recovery, start, wait, act.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.postgres.OsUser;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.appliance.standby.RecoverySettingsFile;
import io.zpitr.appliance.standby.StandbySettings;
import io.zpitr.appliance.wal.ArchiveSources;
import io.zpitr.archive.SourceUnavailableException;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import io.zpitr.archive.WalSource;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.Zfs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A restore never touches the live standby: every dataset of the snapshot set is cloned below
 * {@code restore.dataset_root/NAME} ({@link RestoreClones}); the instance runs as
 * {@code postgres.os_user} on its own port and socket folder, with {@code archive_mode = off} and
 * no replication settings ({@link #recoverySettings}, {@link #serverSettings}), and takes WAL
 * through {@code zpitr wal-fetch} from a spool in the clone ({@link #spoolIn}) that this process
 * fills from the moment the clone exists ({@link RestoreWalFeed}).
 *
 * <p>Replay pauses at a target first ({@code recovery_target_action = pause}), so that reaching it
 * is observed, never assumed: PostgreSQL 12 and older promote silently when WAL ends before the
 * target. Only then is the requested action applied. {@code --latest} has no target: PostgreSQL
 * ends recovery by itself where the archive ends. From 14 on, a restore that promotes asks for the
 * promotion as recovery starts, and PostgreSQL acts on it at the pause, at once. Progress is read from the server log
 * ({@link RestoredPostgres}). A restore that ends before its target is exit 3, its instance stopped
 * and its clones destroyed unless asked to keep them; nothing it started runs on after it.
 */
public final class RestoreService implements AutoCloseable {
    /** The spool's folder name ({@link #spoolIn}). */
    static final String SPOOL = "zpitr-spool";

    private final Appliance appliance;
    private final Settings settings;
    private final Zfs zfs;
    private final ProcessRunner runner;
    private final PrintWriter out;
    private final boolean terminal;
    private final Path launcher;
    /** The sources the plan was made with, still connected: the WAL feed's history lookups take them over. */
    private List<WalSource> planSources = List.of();
    /** A second set, its first source logged in while planning: the WAL feed's first worker takes it over. */
    private List<WalSource> spareSources = List.of();
    /**
     * The restores listed while planning a restore about to run (beside the plan's own work, for
     * the port and an earlier restore of the same name); null: list them when the restore starts.
     */
    private CompletableFuture<List<RestoredInstance>> listedWhilePlanning;
    /**
     * The mountpoints of the configured datasets, looked up while planning a restore about to run
     * (the clone needs them to place PGDATA: ~0.05 s of {@code zfs get} off its path); null: looked
     * up by the clone.
     */
    private CompletableFuture<Map<DatasetName, Path>> mountsWhilePlanning;

    /**
     * Where the work done beside a restore runs (logins, listings, the state recorded): a daemon
     * thread each, so that nothing of it keeps the JVM alive after the command is done.
     */
    private static final Executor BESIDE = work -> {
        Thread t = new Thread(work, "restore-beside");
        t.setDaemon(true);
        t.start();
    };

    /**
     * @param launcher the {@code bin/zpitr} the restored instance's restore_command runs
     */
    public RestoreService(Appliance appliance, PrintWriter out, boolean terminal, Path launcher) {
        this.appliance = appliance;
        this.settings = appliance.settings();
        this.zfs = appliance.zfs();
        this.runner = appliance.runner();
        this.out = out;
        this.terminal = terminal;
        this.launcher = launcher;
    }

    private RestoreCatalog catalog() {
        Optional<RestoreSettings> s =
                settings.restore().isEmpty() ? Optional.empty() : Optional.of(RestoreSettings.of(settings));
        return new RestoreCatalog(zfs, runner, s, settings.stateDir());
    }

    /**
     * The plan for a target: base set and WAL, checked on the sources; changes nothing.
     *
     * @param thorough look far past the required segments for where the archive ends (a dry run),
     *                 rather than a few (a restore about to run: replay finds the rest)
     */
    public RestorePlan plan(RecoveryTarget target, Optional<String> forcedSet, boolean thorough) {
        close();
        List<WalSource> sources = ArchiveSources.forRestore(settings);
        // With a WAL mirror (archive.mirror_dir) the plan and the feed's first segments are read
        // on this machine: the plan does not wait for the archive hosts' logins (below).
        boolean mirrored = settings.archive().mirrorDir().isPresent();
        List<WalSource> spare = thorough || mirrored ? List.of() : ArchiveSources.open(settings);
        // While the pool is listed, each in a thread of its own: log in to every source (the plan
        // asks them), to the first source once more (the WAL feed's first segment comes from there
        // the moment the clone exists), and run postgres --version (the major check after the plan).
        // With a mirror the logins go on beside the clone and the settings, unwaited for: the
        // history lookups that answer PostgreSQL's first request take these connections over (a
        // source's transport serializes its calls, so a lookup waits for a login under way).
        List<CompletableFuture<Void>> warmUps = new ArrayList<>();
        for (WalSource source : sources) {
            if (source.authoritative()) {
                CompletableFuture<Void> login = CompletableFuture.runAsync(() -> logIn(source), BESIDE);
                if (!mirrored) {
                    warmUps.add(login);
                }
            }
        }
        if (!spare.isEmpty()) {
            warmUps.add(CompletableFuture.runAsync(() -> logIn(spare.get(0)), BESIDE));
        }
        warmUps.add(CompletableFuture.runAsync(() -> MajorCheck.warm(settings, runner), BESIDE));
        listedWhilePlanning = !thorough && settings.restore().isPresent()
                ? CompletableFuture.supplyAsync(() -> catalog().list(), BESIDE)
                : null;
        mountsWhilePlanning = !thorough && settings.restore().isPresent()
                ? CompletableFuture.supplyAsync(() -> RestoreClones.liveMounts(zfs, settings.datasets()), BESIDE)
                : null;
        try {
            List<SnapshotSet> sets = appliance.catalog().list();
            try {
                // Each reports its own failure later, where its answer is used: here only waited for.
                CompletableFuture.allOf(warmUps.toArray(CompletableFuture[]::new))
                        .exceptionally(x -> null)
                        .get(2, TimeUnit.MINUTES);
            } catch (TimeoutException | ExecutionException e) {
                // A login still under way after two minutes: the plan asks that source again and says what it answers.
            }
            // A restore about to run with a mirror looks ahead in the mirror only: logging in to an
            // archive host to print "at least" costs more than the look is worth (replay finds the rest).
            Optional<Predicate<WalFileName>> ahead = mirrored && !thorough
                    ? Optional.of(name -> onSomeSource(sources.subList(0, 1), name))
                    : Optional.empty();
            RestorePlan plan = new RestorePlanner(
                            sets,
                            name -> onSomeSource(sources, name),
                            thorough ? RestorePlanner.SCAN_AHEAD : RestorePlanner.SCAN_AHEAD_RUNNING,
                            ahead)
                    .plan(target, forcedSet);
            planSources = sources;
            spareSources = spare;
            return plan;
        } catch (RuntimeException e) {
            sources.forEach(WalSource::close);
            spare.forEach(WalSource::close);
            throw e;
        } catch (InterruptedException e) {
            sources.forEach(WalSource::close);
            spare.forEach(WalSource::close);
            Thread.currentThread().interrupt();
            throw ZpitrError.FAILED.exception("interrupted while planning", e);
        }
    }

    /** Connects to a source by asking it for a file that rarely exists; what it answers does not matter here. */
    private static void logIn(WalSource source) {
        try {
            source.find(WalFileName.of("00000001.history"));
        } catch (SourceUnavailableException | RuntimeException e) {
            // The plan asks again and reports what a source that cannot be reached says.
        }
    }

    /** Closes the plan's source connections if no restore took them over; idempotent. */
    @Override
    public void close() {
        planSources.forEach(WalSource::close);
        planSources = List.of();
        spareSources.forEach(WalSource::close);
        spareSources = List.of();
    }

    private static boolean onSomeSource(List<WalSource> sources, WalFileName name) {
        List<String> unavailable = new ArrayList<>();
        long askable = sources.stream().filter(WalSource::authoritative).count();
        for (WalSource s : sources) {
            try {
                if (!s.find(name).isEmpty()) {
                    return true;
                }
            } catch (SourceUnavailableException e) {
                if (s.authoritative()) {
                    unavailable.add(
                            s.name() + ": " + e.getMessage().lines().findFirst().orElse(""));
                }
            }
        }
        // The mirror's "not here" is no answer for the archive: missing only when an archive source said so.
        if (!unavailable.isEmpty() && unavailable.size() == askable) {
            throw ZpitrError.FAILED.exception("cannot check the archive for " + name + ": no source answered: "
                    + String.join("; ", unavailable) + "\nHINT: zpitr check shows each source");
        }
        return false;
    }

    /**
     * How a restore ended.
     *
     * @param timings    milliseconds from the start of {@link #restore} to each step, in order
     * @param connection how to reach the instance (a drill's checks use it)
     */
    public record Result(
            RestoredInstance instance,
            String psql,
            String stoppedAt,
            Map<String, Long> timings,
            RestoredConnection connection) {}

    /** Clones, configures, starts and waits; see the class comment. */
    public Result restore(RestorePlan plan, RestoreRequest request) throws IOException, InterruptedException {
        RestoreSettings s = RestoreSettings.of(settings);
        long t0 = System.nanoTime();
        RestoreCatalog catalog = catalog();
        List<RestoredInstance> existing = listedWhilePlanning != null ? joined(listedWhilePlanning) : catalog.list();
        listedWhilePlanning = null;
        catalog.cleanUpEarlier(request.name(), existing, out);
        catalog.sweepOrphanWal(existing, out)
                .forEach(gone -> out.println("removed the pg_wal of restore " + gone + ", whose clones are gone"));
        Set<Integer> taken = new HashSet<>();
        existing.stream().filter(r -> !r.name().equals(request.name())).forEach(r -> taken.add(r.port()));
        int port = RestorePorts.choose(request.port(), s.firstPort(), taken);
        Map<String, Long> timings = new LinkedHashMap<>();
        DatasetName root = s.rootOf(request.name());
        Path mountRoot = s.mountOf(request.name());
        SnapshotSet set = plan.base();

        Map<String, String> rootProps = new LinkedHashMap<>();
        rootProps.put("mountpoint", mountRoot.toString());
        rootProps.put(RestoreCatalog.P_NAME, request.name());
        rootProps.put(RestoreCatalog.P_SNAPSHOT, set.id());
        rootProps.put(RestoreCatalog.P_TARGET, plan.target().describe());
        rootProps.put(RestoreCatalog.P_STATE, "building");
        rootProps.put(RestoreCatalog.P_BUILDER, ProcessTrees.identity(ProcessHandle.current()));
        rootProps.put(RestoreCatalog.P_PORT, Integer.toString(port));
        if (request.expiresAt() != null) {
            rootProps.put(RestoreCatalog.P_EXPIRES, request.expiresAt().toString());
        }
        Map<DatasetName, Path> mounts = Map.of();
        if (mountsWhilePlanning != null) {
            try {
                mounts = joined(mountsWhilePlanning);
            } catch (RuntimeException e) {
                // Looked up again by the clone, which reports what went wrong.
            }
            mountsWhilePlanning = null;
        }
        RestoreClones clones = new RestoreClones(zfs, runner, out, mounts);
        Path plannedPgdata = clones.pgdataIn(set, mountRoot, s.liveData());
        rootProps.put(RestoreCatalog.P_PGDATA, plannedPgdata.toString());
        zfs.create(root, rootProps, true);
        Path pgdata = null;
        RestoredPostgres instance = null;
        Optional<RestoreWalFeed> feed = Optional.empty();
        CompletableFuture<Void> recording = null;
        try {
            // 1. Clones: O(1), whatever the size of the data.
            pgdata = clones.cloneSet(
                    set, root, mountRoot, s.liveData(), request.name(), s.osUser(), s.walHomeOf(request.name()));
            timings.put("cloned", ms(t0));
            out.printf(
                    "cloned %s (%d dataset(s)) in %d ms%n",
                    set.id(), set.snapshots().size(), timings.get("cloned"));
            out.flush();
            RecoverySettingsFile.removeRecoveryFiles(pgdata);

            // 2. WAL: fetching starts now, while the rest is set up and PostgreSQL starts.
            Path runDir = mountRoot.resolve("run");
            Path spool = spoolIn(pgdata);
            Path log = mountRoot.resolve("postgresql.log");
            Files.createDirectories(runDir);
            RestoreCatalog.deleteTree(spool); // a folder of that name the snapshot held: not ours to trust
            Files.createDirectories(spool);
            Files.deleteIfExists(log);
            Files.createFile(log);
            OsUser.giveTo(s.osUser(), runDir, spool, mountRoot, log);
            List<WalSource> warm = planSources;
            List<WalSource> spare = spareSources;
            planSources = List.of();
            spareSources = List.of();
            feed = RestoreWalFeed.start(
                    settings,
                    spool,
                    plan.firstSegment(),
                    WalSegments.DEFAULT_SIZE,
                    plan.base().timeline(),
                    warm,
                    spare,
                    pgdata,
                    plan.target() instanceof RecoveryTarget.Immediate);

            // 3. Recovery settings for the server's major.
            int major = Integer.parseInt(
                    Files.readString(pgdata.resolve("PG_VERSION")).strip());
            RecoverySettingsFile.write(
                    pgdata,
                    major,
                    RecoverySettingsFile.Mode.TARGETED_RECOVERY,
                    recoverySettings(plan, request, spool),
                    serverSettings(request, major, port, runDir),
                    "written by zpitr restore " + request.name(),
                    Optional.of(s.osUser()));

            // 4. Start, as the configured OS user, and follow recovery in its log.
            timings.put("configured", ms(t0));
            instance = new RestoredPostgres(runner, s.osUser(), s.binDir(), pgdata, runDir, port, log);
            // The prefetcher clears the spool's marks when it starts: the history answers go in after it.
            feed.ifPresent(RestoreWalFeed::startHistories);
            timings.put("histories", ms(t0));
            instance.start();
            timings.put("started", ms(t0));
            boolean latest = plan.target() instanceof RecoveryTarget.Latest;
            boolean promoted = latest;
            boolean promoteEarly = !promoted && request.action() == RestoreRequest.Action.promote && major >= 14;
            RecoveryProgress progress = instance.awaitRecovery(
                    promoted ? RecoveryProgress.Phase.PROMOTED : RecoveryProgress.Phase.PAUSED_AT_TARGET,
                    plan,
                    out,
                    terminal,
                    promoteEarly);
            timings.put("target", ms(t0));
            if (request.action() == RestoreRequest.Action.promote) {
                // Recorded while PostgreSQL finishes its promotion (a zfs set takes tens of milliseconds,
                // the promotion some hundreds); a promotion that fails records its own state after this one.
                recording = CompletableFuture.runAsync(() -> catalog.setState(root, "running"), BESIDE);
            }
            if (promoteEarly) {
                // Promoting already: the feed keeps the history answers PostgreSQL asks for at
                // promotion, which a prefetcher that stops clears (they are primed again after it).
                instance.promote(major);
                promoted = true;
            }
            boolean promotedAlready = promoted;
            feed.ifPresent(f -> f.stopSegments(!promotedAlready));
            timings.put("feed stopped", ms(t0));
            // "All the archive holds" is only known when every source answered for the next segment.
            Optional<String> unanswered = latest
                    ? feed.flatMap(RestoreWalFeed::unanswered)
                            .filter(u -> progress.lastRestored()
                                    .map(l -> u.compareTo(l) > 0)
                                    .orElse(true))
                    : Optional.empty();
            String stoppedAt = latest
                    ? (unanswered.isPresent()
                                    ? "the end of the WAL that could be fetched, after "
                                    : "the end of the archived WAL, after ")
                            + progress.lastRestored().orElse("the snapshot's own WAL") + " (promoted)"
                    : progress.stoppedAt().orElse("the target");
            unanswered.ifPresent(u -> out.println("WARNING: no archive source could be asked for " + u
                    + ": the archive may hold WAL past where replay ended\nHINT: zpitr check shows each source;"
                    + " restore again once they answer"));

            // 5. The requested action.
            String state;
            switch (request.action()) {
                case promote -> {
                    if (!promoted) {
                        instance.promote(major);
                    }
                    state = "running";
                }
                case shutdown -> {
                    instance.stop("fast");
                    state = "shut down";
                }
                default -> state = "paused";
            }
            timings.put("done", ms(t0));
            // Recorded while the feed closes (both take tens of milliseconds); the restore returns after both.
            if (recording == null) {
                String done = state;
                recording = CompletableFuture.runAsync(() -> catalog.setState(root, done), BESIDE);
            }
            feed.ifPresent(RestoreWalFeed::close);
            if (request.action() != RestoreRequest.Action.pause) {
                feed.ifPresent(RestoreWalFeed::dropKept);
            }
            feed.ifPresent(f -> out.println("WAL feed: " + f.summary()));
            feed.flatMap(RestoreWalFeed::trouble).ifPresent(t -> out.println("WAL feed: " + t));
            joined(recording);
            recording = null;
            timings.put("recorded", ms(t0));
            String psql =
                    s.binDir().resolve("psql") + " -h " + runDir + " -p " + port + " -U " + s.dbUser() + " -d postgres";
            return new Result(
                    new RestoredInstance(
                            request.name(),
                            root.full(),
                            set.id(),
                            plan.target().describe(),
                            port,
                            pgdata.toString(),
                            state,
                            request.expiresAt() == null
                                    ? null
                                    : request.expiresAt().toString()),
                    psql,
                    stoppedAt,
                    timings,
                    new RestoredConnection(s.osUser(), s.binDir(), runDir, port, s.dbUser()));
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (recording != null) {
                // A state being recorded must not land after the failure's own ("failed", or none).
                recording.exceptionally(x -> null).join();
            }
            feed.ifPresent(RestoreWalFeed::closeAndWait);
            failed(catalog, root, request, pgdata, s);
            throw e;
        }
    }

    /** Stops the instance and destroys the clones; true if there was something to drop. Idempotent. */
    public boolean drop(String name) throws IOException {
        return catalog().drop(name);
    }

    /** Every restore below restore.dataset_root. */
    public List<RestoredInstance> list() {
        return catalog().list();
    }

    /** The restores whose expiry has passed ({@link RestoreCatalog#expired}). */
    public List<RestoredInstance> expired(java.time.Instant now) {
        return catalog().expired(now);
    }

    /** Records when the daemon may drop restore {@code name}. */
    public void expire(String name, java.time.Instant at) {
        catalog().setExpiry(name, at);
    }

    /** {@code restore.default_ttl}: how long a restore made without {@code --ttl} lives; empty: for ever. */
    public static Optional<Duration> defaultTtl(Settings settings) {
        return settings.restore().flatMap(Settings.Restore::defaultTtl);
    }

    /**
     * A restore's prefetch spool: a folder on the file system of the clone's {@code pg_wal}, so a hit
     * is renamed into place instead of copied (16 MiB written once, not twice), but outside the
     * folders PostgreSQL's start-up sync walks. A snapshot of a running standby starts
     * as a crashed cluster, whose start-up fsyncs every file under the data directory and its
     * {@code pg_wal}: a spool in there had every segment spooled ahead by then (up to 32, 512 MiB)
     * flushed through ZFS before recovery began (measured: docs/restore-guide.md). So the spool is
     * the folder {@code zpitr-spool} beside the data directory (beside the {@code pg_wal} folder
     * when that is a link out of the data directory: the restore's own pg_wal off the clone, or one
     * in another clone) when that parent is on the same file system, and {@code pg_wal/zpitr-spool}
     * otherwise (a data directory that is its dataset's mount point). It goes with the restore. The
     * same answer at every call while the clone is mounted.
     */
    public static Path spoolIn(Path pgdata) {
        Path inWal = pgdata.resolve("pg_wal").resolve(SPOOL);
        try {
            Path data = pgdata.toRealPath();
            Path wal = pgdata.resolve("pg_wal").toRealPath();
            Path beside = wal.startsWith(data) ? data.getParent() : wal.getParent();
            if (beside == null || beside.getParent() == null || !sameFileSystem(beside, wal)) {
                return inWal;
            }
            return beside.resolve(SPOOL);
        } catch (IOException | UnsupportedOperationException e) {
            return inWal;
        }
    }

    private static boolean sameFileSystem(Path a, Path b) throws IOException {
        return Files.getAttribute(a, "unix:dev").equals(Files.getAttribute(b, "unix:dev"));
    }

    /** restore_command, the target, and where to stop: see the class comment. */
    private Map<String, String> recoverySettings(RestorePlan plan, RestoreRequest request, Path spool) {
        Map<String, String> recovery = new LinkedHashMap<>();
        recovery.put("restore_command", StandbySettings.restoreCommand(launcher, settings.file(), spool));
        recovery.putAll(plan.target().settings(request.exclusive()));
        if (!(plan.target() instanceof RecoveryTarget.Latest)) {
            recovery.put("recovery_target_action", "pause");
        }
        recovery.put("recovery_target_timeline", "latest");
        // A delayed standby's own delay (in the snapshot's settings) would hold replay back by as much.
        recovery.put("recovery_min_apply_delay", "0");
        return recovery;
    }

    /** Its own port and sockets, nothing that reaches production, and a log zpitr can follow. */
    private static Map<String, String> serverSettings(RestoreRequest request, int major, int port, Path runDir) {
        Map<String, String> server = new LinkedHashMap<>();
        server.put("port", Integer.toString(port));
        server.put("unix_socket_directories", runDir.toString());
        server.put("listen_addresses", "localhost");
        server.put("archive_mode", "off");
        server.put("archive_command", "");
        if (major >= 12) {
            server.put("primary_conninfo", "");
            server.put("primary_slot_name", "");
        }
        server.put("hot_standby", "on");
        server.put("cluster_name", "zpitr-restore-" + request.name());
        // What RestoredPostgres reads: every LOG line, in English, on stderr (pg_ctl -l), whatever
        // the live standby's logging settings were.
        server.put("lc_messages", "C");
        server.put("logging_collector", "off");
        server.put("log_destination", "stderr");
        server.put("log_min_messages", "warning");
        return server;
    }

    private void failed(
            RestoreCatalog catalog, DatasetName root, RestoreRequest request, Path pgdata, RestoreSettings s) {
        try {
            if (pgdata != null && RestoredPostgres.postmasterOf(pgdata).isPresent()) {
                runner.run(Command.of(RestoredPostgres.asUser(
                                s.osUser(),
                                s.binDir().resolve("pg_ctl").toString(),
                                "stop",
                                "-D",
                                pgdata.toString(),
                                "-m",
                                "immediate",
                                "-w"))
                        .timeout(Duration.ofMinutes(1)));
            }
            if (request.keepFailed()) {
                catalog.setState(root, "failed");
                out.println(
                        "kept the failed restore's clones: " + root + " (zpitr restore-drop " + request.name() + ")");
            } else if (zfs.exists(root)) {
                catalog.destroyClones(root, request.name(), pgdata);
            }
        } catch (IOException | RuntimeException cleanup) {
            out.println("could not clean up " + root + ": " + cleanup.getMessage() + "\nHINT: zpitr restore-drop "
                    + request.name());
        }
    }

    /** What a task beside this thread gave, or its failure as thrown there. */
    private static <T> T joined(CompletableFuture<T> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }
}
