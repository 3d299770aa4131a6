// Builds a point-in-time restore beside the live standby: clone, configure recovery, start, wait, report.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.config.ZpitrConfig;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.appliance.standby.StandbySettings;
import io.zpitr.appliance.wal.ArchiveSources;
import io.zpitr.appliance.wal.PrefetcherProcess;
import io.zpitr.archive.SourceUnavailableException;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSource;
import io.zpitr.archive.WalSpool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.SnapshotName;
import io.zpitr.zfs.Zfs;
import io.zpitr.zfs.ZfsEntry;
import io.zpitr.zfs.ZfsException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A restore never touches the live standby: every dataset of the snapshot set is cloned below
 * {@code restore.dataset_root/NAME}; links that lead out of the snapshot ({@code pg_wal},
 * tablespaces) are pointed into the clone; the instance runs as {@code postgres.os_user} on its own
 * port and socket folder, with {@code archive_mode = off} and no replication settings, and fetches WAL
 * through {@code zpitr wal-fetch} with a spool of its own, in the clone's {@code pg_wal}.
 *
 * <p>Replay always pauses at the target first ({@code recovery_target_action = pause}), so that
 * reaching it is observed, never assumed: PostgreSQL 12 and older promote silently when WAL ends
 * before the target. Only then is the requested action applied. A restore that ends before its
 * target is exit 3, its instance stopped and its clones destroyed unless asked to keep them.
 */
public final class RestoreService {
    static final String P_NAME = "zpitr:restore";
    static final String P_SNAPSHOT = "zpitr:restore_snapshot";
    static final String P_TARGET = "zpitr:restore_target";
    static final String P_PORT = "zpitr:restore_port";
    static final String P_PGDATA = "zpitr:restore_pgdata";
    static final String P_STATE = "zpitr:restore_state";
    /** How long a prefetcher gets to end on TERM before KILL: a worker finishing a segment's rename. */
    private static final Duration PREFETCHER_GRACE = Duration.ofSeconds(10);

    private final Appliance appliance;
    private final Settings settings;
    private final Zfs zfs;
    private final PrintWriter out;
    private final boolean terminal;
    private final Path launcher;

    /**
     * @param launcher the {@code bin/zpitr} the restored instance's restore_command runs
     */
    public RestoreService(Appliance appliance, PrintWriter out, boolean terminal, Path launcher) {
        this.appliance = appliance;
        this.settings = appliance.settings();
        this.zfs = appliance.zfs();
        this.out = out;
        this.terminal = terminal;
        this.launcher = launcher;
    }

    /** The plan for a target: base set and WAL, checked on the sources; changes nothing. */
    public RestorePlan plan(RecoveryTarget target, Optional<String> forcedSet) {
        List<WalSource> sources = ArchiveSources.open(settings);
        try {
            return new RestorePlanner(appliance.catalog().list(), name -> onSomeSource(sources, name))
                    .plan(target, forcedSet);
        } finally {
            sources.forEach(WalSource::close);
        }
    }

    private static boolean onSomeSource(List<WalSource> sources, WalFileName name) {
        List<String> unavailable = new ArrayList<>();
        for (WalSource s : sources) {
            try {
                if (!s.find(name).isEmpty()) {
                    return true;
                }
            } catch (SourceUnavailableException e) {
                unavailable.add(s.name() + ": " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        if (!unavailable.isEmpty() && unavailable.size() == sources.size()) {
            throw new IllegalStateException("cannot check the archive for " + name + ": no source answered: "
                    + String.join("; ", unavailable) + "\nHINT: zpitr check shows each source");
        }
        return false;
    }

    /** How a restore ended. */
    public record Result(RestoredInstance instance, String psql, String stoppedAt) {
    }

    /** Clones, configures, starts and waits; see the class comment. */
    public Result restore(RestorePlan plan, RestoreRequest request) throws IOException, InterruptedException {
        DatasetName root = restoreRoot(request.name());
        if (zfs.exists(root)) {
            cleanUpEarlier(root, request.name());
        }
        Path mountRoot = mountRoot().resolve(request.name());
        SnapshotSet set = plan.base();
        ZpitrConfig.Postgres pg = settings.postgres().orElseThrow(() -> new IllegalArgumentException(
                "the postgres section is missing from " + settings.file()));
        String osUser = pg.osUser() == null ? "postgres" : pg.osUser();
        Path binDir = settings.file().getParent().resolve(pg.binDir() == null ? "/usr/lib/postgresql/15/bin" : pg.binDir());
        Path liveData = settings.file().getParent().resolve(requireDataDir(pg));

        // 1. Clones: O(1), whatever the size of the data.
        long t0 = System.nanoTime();
        Map<String, String> rootProps = new LinkedHashMap<>();
        rootProps.put("mountpoint", mountRoot.toString());
        rootProps.put(P_NAME, request.name());
        rootProps.put(P_SNAPSHOT, set.id());
        rootProps.put(P_TARGET, plan.target().describe());
        rootProps.put(P_STATE, "building");
        zfs.create(root, rootProps, true);
        Map<Path, Path> liveToClone = new LinkedHashMap<>();
        Set<String> leaves = new HashSet<>();
        Path pgdata = null;
        try {
            for (SnapshotName snap : set.snapshots()) {
                String leaf = snap.dataset().leaf();
                for (int i = 2; !leaves.add(leaf); i++) {
                    leaf = snap.dataset().leaf() + "-" + i;
                }
                DatasetName clone = root.child(leaf);
                Path cloneMount = mountRoot.resolve(leaf);
                zfs.clone(snap, clone, cloneMount, Map.of(P_NAME, request.name()));
                Path liveMount = Path.of(zfs.get(snap.dataset(), "mountpoint").orElseThrow());
                liveToClone.put(liveMount, cloneMount);
                if (pgdata == null) {
                    if (!liveData.startsWith(liveMount)) {
                        throw new IllegalArgumentException("postgres.data_dir " + liveData + " is not inside the first dataset "
                                + snap.dataset() + " (mounted at " + liveMount + ")\nHINT: list the dataset holding PGDATA first");
                    }
                    pgdata = cloneMount.resolve(liveMount.relativize(liveData));
                }
            }
            out.printf("cloned %s (%d dataset(s)) in %d ms%n", set.id(), set.snapshots().size(), (System.nanoTime() - t0) / 1_000_000);

            // 2. Make the clone its own: no live-standby files, links kept inside the clone.
            Files.deleteIfExists(pgdata.resolve("postmaster.pid"));
            Files.deleteIfExists(pgdata.resolve("standby.signal"));
            Files.deleteIfExists(pgdata.resolve("recovery.signal"));
            Files.deleteIfExists(pgdata.resolve("recovery.conf"));
            localizeWal(pgdata, osUser);
            repointTablespaces(pgdata, liveToClone);

            // 3. Recovery settings for the server's major.
            int major = Integer.parseInt(Files.readString(pgdata.resolve("PG_VERSION")).strip());
            Path runDir = mountRoot.resolve("run");
            Path spool = spoolIn(pgdata);
            Files.createDirectories(runDir);
            Files.createDirectories(spool);
            chown(osUser, runDir, spool, mountRoot);
            int port = choosePort(request.port());
            zfs.setUserProperty(root, P_PORT, Integer.toString(port));
            zfs.setUserProperty(root, P_PGDATA, pgdata.toString());
            writeRecoveryConfig(pgdata, major, plan, request, port, runDir, spool);
            chown(osUser, pgdata.resolve("postgresql.auto.conf"));
            if (major < 12) {
                chown(osUser, pgdata.resolve("recovery.conf"));
            } else {
                chown(osUser, pgdata.resolve("recovery.signal"));
            }

            // 4. Start, as the configured OS user, and watch replay.
            // Prefetch from the first segment on, before PostgreSQL asks: replay then starts on local disk.
            if (settings.archive().prefetch() > 0) {
                WalSpool walSpool = new WalSpool(spool);
                walSpool.recordRequested(io.zpitr.archive.WalSegments.offset(WalFileName.of(plan.firstSegment()), -1,
                        RestorePlanner.SEGMENT_SIZE));
                chown(osUser, spool.resolve(WalSpool.REQUESTED));
                PrefetcherProcess.startIfIdle(appliance.runner(), walSpool, settings.file(),
                        RestorePlanner.SEGMENT_SIZE, Optional.of(osUser), Optional.of(spool), Optional.of(launcher));
            }
            Path log = mountRoot.resolve("postgresql.log");
            Files.deleteIfExists(log);
            Files.createFile(log);
            chown(osUser, log);
            appliance.runner().run(Command.of(asUser(osUser, binDir.resolve("pg_ctl").toString(), "start", "-D", pgdata.toString(),
                    "-l", log.toString(), "-W")).timeout(Duration.ofMinutes(2))).requireSuccess();
            Instance instance = new Instance(appliance, osUser, binDir, pgdata, runDir, port, log);
            String stoppedAt = waitForTarget(instance, plan.target(), major);

            // 5. The requested action.
            String state;
            switch (request.action()) {
                case promote -> {
                    if (!(plan.target() instanceof RecoveryTarget.Latest)) {
                        // From 14 on (documented there), a promotion ends the pause at the target and
                        // takes the fast way: an end-of-recovery record, the checkpoint after it in the
                        // background. Resuming ends recovery with an immediate checkpoint that the
                        // promotion waits for (bench/restore.sh, scale 70: 0.9 s of the 1.9 s from target
                        // to answering). Should the promotion not happen, resume after all (refused, and
                        // harmless, if the promotion got under way meanwhile).
                        boolean promoted = major >= 14 && instance.sql("select pg_promote(true, 10)").equals("t");
                        if (!promoted) {
                            instance.trySql("select pg_wal_replay_resume()");
                        }
                    }
                    instance.awaitPromoted();
                    state = "running";
                }
                case shutdown -> {
                    instance.stop("fast");
                    state = "shut down";
                }
                default -> state = "paused";
            }
            zfs.setUserProperty(root, P_STATE, state);
            String psql = binDir.resolve("psql") + " -h " + runDir + " -p " + port + " -U " + dbUser() + " -d postgres";
            return new Result(new RestoredInstance(request.name(), root.full(), set.id(), plan.target().describe(), port,
                    pgdata.toString(), state), psql, stoppedAt);
        } catch (IOException | InterruptedException | RuntimeException e) {
            failed(root, request, pgdata, osUser, binDir);
            throw e;
        }
    }

    /** Stops the instance and destroys the clones; true if there was something to drop. Idempotent. */
    public boolean drop(String name) throws IOException {
        new RestoreRequest(name, 0, RestoreRequest.Action.shutdown, false, false);  // validates the name
        DatasetName root = restoreRoot(name);
        if (!zfs.exists(root)) {
            return false;
        }
        stopIfRunning(root);
        destroyClones(root, name, pgdataOf(root));
        return true;
    }

    /** The restore's PGDATA in its clone, or null if the restore failed before it got that far. */
    private Path pgdataOf(DatasetName root) {
        return zfs.get(root, P_PGDATA).filter(p -> !p.isEmpty()).map(Path::of).orElse(null);
    }

    /**
     * A restore's prefetch spool: a folder in its clone's {@code pg_wal}, as WAL-G keeps its
     * prefetched WAL in {@code pg_wal/.wal-g}. On the file system of PostgreSQL's {@code %p}, so a
     * hit is renamed into place instead of copied (16 MiB written into the clone once, not twice);
     * PostgreSQL takes only WAL file names from {@code pg_wal}, never a folder; it goes with the clone.
     */
    public static Path spoolIn(Path pgdata) {
        return pgdata.resolve("pg_wal").resolve("zpitr-spool");
    }

    /**
     * Destroys the restore's clones, after stopping its prefetcher and waiting until it is gone: it
     * holds files open in the spool, which keeps the clone busy. Once more if the clone is busy
     * still: a restore_command that PostgreSQL's shutdown left running may have started a prefetcher
     * meanwhile ({@link io.zpitr.appliance.wal.LauncherHandoff}).
     */
    private void destroyClones(DatasetName root, String name, Path pgdata) throws IOException {
        for (int attempt = 1; ; attempt++) {
            if (pgdata != null) {
                PrefetcherProcess.stop(spoolIn(pgdata), PREFETCHER_GRACE);
            }
            try {
                zfs.destroy(root, true);
                break;
            } catch (ZfsException.DatasetBusyException e) {
                if (attempt == 3) {
                    throw e;
                }
            }
        }
        removeStateDirSpool(name);
    }

    /**
     * Restores made before the spool moved into the clone kept it in {@code state_dir/restores/NAME}:
     * stops its prefetcher and removes it, once more if something wrote into it meanwhile.
     */
    private void removeStateDirSpool(String name) throws IOException {
        Path dir = settings.stateDir().resolve("restores").resolve(name);
        Path spool = dir.resolve("spool");
        for (int attempt = 1; ; attempt++) {
            PrefetcherProcess.stop(spool, PREFETCHER_GRACE);
            try {
                deleteTree(dir);
                return;
            } catch (DirectoryNotEmptyException | NoSuchFileException | UncheckedIOException e) {
                if (attempt == 3) {
                    throw new IOException("cannot remove the spool " + dir + " of restore " + name
                            + ": something keeps writing into it (" + e.getMessage() + ")", e);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Every restore below restore.dataset_root. */
    public List<RestoredInstance> list() {
        DatasetName base = datasetRoot();
        if (!zfs.exists(base)) {
            return List.of();
        }
        List<RestoredInstance> all = new ArrayList<>();
        for (ZfsEntry e : zfs.list(base, true, Set.of(Zfs.Type.FILESYSTEM), List.of(P_NAME, P_SNAPSHOT, P_TARGET, P_PORT, P_PGDATA, P_STATE))) {
            if (e.property(P_SNAPSHOT).isEmpty()) {
                continue;  // a clone below a restore root, or something else
            }
            String state = e.property(P_STATE).orElse("?");
            String pgdata = e.property(P_PGDATA).orElse("");
            boolean up = !pgdata.isEmpty() && Files.exists(Path.of(pgdata, "postmaster.pid"));
            if (state.equals("running") || state.equals("paused")) {
                state = up ? state : "stopped";
            }
            all.add(new RestoredInstance(e.property(P_NAME).orElse(""), e.name(), e.property(P_SNAPSHOT).orElse(""),
                    e.property(P_TARGET).orElse(""), Integer.parseInt(e.property(P_PORT).orElse("0")), pgdata, state));
        }
        return all;
    }

    // ------------------------------------------------------------------ steps

    private String waitForTarget(Instance instance, RecoveryTarget target, int major) throws InterruptedException, IOException {
        long lastReport = 0;
        while (true) {
            Thread.sleep(250);
            String log = instance.log();
            if (!instance.alive()) {
                if (log.contains("recovery ended before configured recovery target was reached")) {
                    throw new NotRestorableException("replay ended before " + target.describe()
                            + ": the archive holds no WAL that far\nHINT: pick an earlier target (zpitr list shows the window)");
                }
                throw new IllegalStateException("the restored PostgreSQL stopped during recovery; its log ends with:\n"
                        + tail(log, 15));
            }
            Optional<String[]> row = instance.trySql("select pg_is_in_recovery(), "
                    + (major >= 10 ? "pg_is_wal_replay_paused(), pg_last_wal_replay_lsn()" : "false, null")
                    + ", coalesce(pg_last_xact_replay_timestamp()::text, '-')");
            if (row.isEmpty()) {
                continue;  // not yet consistent: connections are refused until then
            }
            String[] f = row.get();
            boolean inRecovery = f[0].equals("t");
            if (!inRecovery) {
                if (target instanceof RecoveryTarget.Latest) {
                    return "end of WAL (promoted)";
                }
                // Promoted although we asked for a pause: WAL ended before the target (PostgreSQL 12 and older).
                throw new NotRestorableException("replay ended before " + target.describe()
                        + " and PostgreSQL promoted at the end of WAL\nHINT: pick an earlier target (zpitr list shows the window)");
            }
            if (f[1].equals("t") && log.contains("recovery stopping")) {
                return log.lines().filter(l -> l.contains("recovery stopping")).reduce((a, b) -> b).orElse("")
                        .replaceAll("^.*?(recovery stopping)", "$1");
            }
            if (terminal && System.nanoTime() - lastReport > 2_000_000_000L) {
                out.printf("replaying: LSN %s, last commit %s, target %s%n", f[2], f[3], target.describe());
                out.flush();
                lastReport = System.nanoTime();
            }
        }
    }

    private void localizeWal(Path pgdata, String osUser) throws IOException {
        Path wal = pgdata.resolve(Files.exists(pgdata.resolve("pg_wal"), LinkOption.NOFOLLOW_LINKS) ? "pg_wal" : "pg_xlog");
        if (Files.isSymbolicLink(wal)) {
            // The live standby's pg_wal lives outside ZFS: the clone gets a folder of its own; the WAL
            // it needs comes from the archive through restore_command.
            Path target = Files.readSymbolicLink(wal);
            Files.delete(wal);
            Files.createDirectories(wal.resolve("archive_status"));
            chown(osUser, wal, wal.resolve("archive_status"));
            Files.setPosixFilePermissions(wal, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            out.println("pg_wal pointed outside the snapshot (" + target + "); the clone has its own pg_wal");
        }
    }

    private void repointTablespaces(Path pgdata, Map<Path, Path> liveToClone) throws IOException {
        Path tblspc = pgdata.resolve("pg_tblspc");
        if (!Files.isDirectory(tblspc)) {
            return;
        }
        try (Stream<Path> links = Files.list(tblspc)) {
            for (Path link : links.toList()) {
                if (!Files.isSymbolicLink(link)) {
                    continue;  // an in-place tablespace (allow_in_place_tablespaces): inside the clone already
                }
                Path target = Files.readSymbolicLink(link);
                Path moved = null;
                for (Map.Entry<Path, Path> e : liveToClone.entrySet()) {
                    if (target.startsWith(e.getKey())) {
                        moved = e.getValue().resolve(e.getKey().relativize(target));
                        break;
                    }
                }
                if (moved == null) {
                    throw new IllegalArgumentException("tablespace " + link.getFileName() + " lives at " + target
                            + ", outside every configured dataset: the snapshot does not hold it"
                            + "\nHINT: put the tablespace on a dataset and list it in zfs.datasets");
                }
                Files.delete(link);
                Files.createSymbolicLink(link, moved);
                appliance.runner().run(Command.of("chown", "-h", ownerOf(moved), link.toString())).requireSuccess();
                out.println("tablespace " + link.getFileName() + " -> " + moved);
            }
        }
    }

    private void writeRecoveryConfig(Path pgdata, int major, RestorePlan plan, RestoreRequest request, int port,
                                     Path runDir, Path spool) throws IOException {
        Map<String, String> recovery = new LinkedHashMap<>();
        recovery.put("restore_command", StandbySettings.restoreCommand(launcher, settings.file(), spool));
        recovery.putAll(plan.target().settings(request.exclusive()));
        if (!(plan.target() instanceof RecoveryTarget.Latest)) {
            recovery.put("recovery_target_action", "pause");
        }
        recovery.put("recovery_target_timeline", "latest");
        Map<String, String> server = new LinkedHashMap<>();
        server.put("port", Integer.toString(port));
        server.put("unix_socket_directories", runDir.toString());
        server.put("listen_addresses", "localhost");
        server.put("archive_mode", "off");
        server.put("archive_command", "");
        server.put("primary_conninfo", "");
        server.put("primary_slot_name", "");
        server.put("hot_standby", "on");
        server.put("lc_messages", "C");
        server.put("cluster_name", "zpitr-restore-" + request.name());
        if (major >= 14) {
            // The snapshot is of a running server, so PostgreSQL first makes the whole data directory
            // durable: by default an open and fsync of every file, which grows with the database.
            // A clone holds nothing unwritten; syncfs() of its file systems does the same job at once.
            server.put("recovery_init_sync_method", "syncfs");
        }
        if (major < 12) {
            server.remove("primary_conninfo");
            server.remove("primary_slot_name");
            StringBuilder conf = new StringBuilder("# written by zpitr restore\n");
            conf.append(StandbySettings.confLines(recovery));
            Files.writeString(pgdata.resolve("recovery.conf"), conf.toString(), StandardCharsets.UTF_8);
        } else {
            server.putAll(recovery);
            Files.writeString(pgdata.resolve("recovery.signal"), "");
        }
        StringBuilder auto = new StringBuilder("\n# written by zpitr restore " + request.name() + "\n");
        auto.append(StandbySettings.confLines(server));
        Files.writeString(pgdata.resolve("postgresql.auto.conf"), auto.toString(), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private void failed(DatasetName root, RestoreRequest request, Path pgdata, String osUser, Path binDir) {
        try {
            if (pgdata != null && Files.exists(pgdata.resolve("postmaster.pid"))) {
                appliance.runner().run(Command.of(asUser(osUser, binDir.resolve("pg_ctl").toString(), "stop", "-D",
                        pgdata.toString(), "-m", "immediate", "-w")).timeout(Duration.ofMinutes(1)));
            }
            if (request.keepFailed()) {
                zfs.setUserProperty(root, P_STATE, "failed");
                out.println("kept the failed restore's clones: " + root + " (zpitr restore-drop " + request.name() + ")");
            } else if (zfs.exists(root)) {
                destroyClones(root, request.name(), pgdata);
            }
        } catch (IOException | RuntimeException cleanup) {
            out.println("could not clean up " + root + ": " + cleanup.getMessage()
                    + "\nHINT: zpitr restore-drop " + request.name());
        }
    }

    /** A restore of the same name left by a crash: stop what runs on it and start over. */
    private void cleanUpEarlier(DatasetName root, String name) {
        String state = zfs.get(root, P_STATE).orElse("?");
        if (!state.equals("building") && !state.equals("failed")) {
            throw new IllegalStateException("a restore named '" + name + "' exists (" + state + ")"
                    + "\nHINT: zpitr restore-drop " + name + " first, or choose another --name");
        }
        out.println("cleaning up an earlier, unfinished restore named " + name);
        stopIfRunning(root);
        try {
            destroyClones(root, name, pgdataOf(root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void stopIfRunning(DatasetName root) {
        Optional<String> pgdata = zfs.get(root, P_PGDATA);
        if (pgdata.isPresent() && Files.exists(Path.of(pgdata.get(), "postmaster.pid"))) {
            ZpitrConfig.Postgres pg = settings.postgres().orElseThrow();
            String osUser = pg.osUser() == null ? "postgres" : pg.osUser();
            Path binDir = settings.file().getParent().resolve(pg.binDir() == null ? "/usr/lib/postgresql/15/bin" : pg.binDir());
            ProcessResult r = appliance.runner().run(Command.of(asUser(osUser, binDir.resolve("pg_ctl").toString(), "stop",
                    "-D", pgdata.get(), "-m", "fast", "-w", "-t", "120")).timeout(Duration.ofMinutes(3)));
            if (!r.succeeded() && Files.exists(Path.of(pgdata.get(), "postmaster.pid"))) {
                throw new IllegalStateException("cannot stop the PostgreSQL of restore " + root + ": " + r.stderr().strip());
            }
        }
    }

    private int choosePort(int asked) throws IOException {
        Set<Integer> taken = new HashSet<>();
        for (RestoredInstance r : list()) {
            taken.add(r.port());
        }
        if (asked > 0) {
            if (!free(asked) || taken.contains(asked)) {
                throw new IllegalArgumentException("port " + asked + " is in use\nHINT: choose another --port, or leave it out");
            }
            return asked;
        }
        ZpitrConfig.Restore r = settings.raw().restore();
        int first = r == null || r.port() == null ? 6432 : r.port();
        for (int p = first; p < first + 100 && p <= 65535; p++) {
            if (!taken.contains(p) && free(p)) {
                return p;
            }
        }
        throw new IllegalStateException("no free port from " + first + " to " + (first + 99));
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private DatasetName datasetRoot() {
        ZpitrConfig.Restore r = settings.raw().restore();
        if (r == null || r.datasetRoot() == null || r.mountRoot() == null) {
            throw new IllegalArgumentException("restore.dataset_root and restore.mount_root are not configured in "
                    + settings.file());
        }
        return DatasetName.of(r.datasetRoot());
    }

    private DatasetName restoreRoot(String name) {
        return datasetRoot().child(name);
    }

    private Path mountRoot() {
        datasetRoot();
        return settings.file().getParent().resolve(settings.raw().restore().mountRoot()).normalize();
    }

    private String dbUser() {
        ZpitrConfig.Postgres pg = settings.postgres().orElseThrow();
        return pg.standby() != null && pg.standby().user() != null ? pg.standby().user() : "postgres";
    }

    private static String requireDataDir(ZpitrConfig.Postgres pg) {
        if (pg.dataDir() == null) {
            throw new IllegalArgumentException("postgres.data_dir is not configured: a restore needs to find PGDATA in the clone");
        }
        return pg.dataDir();
    }

    private void chown(String user, Path... paths) {
        for (Path p : paths) {
            appliance.runner().run(Command.of("chown", user + ":", p.toString())).requireSuccess();
        }
    }

    private static String ownerOf(Path p) throws IOException {
        return Files.getOwner(p).getName();
    }

    static List<String> asUser(String osUser, String... argv) {
        List<String> all = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name")) && !"root".equals(osUser)) {
            all.addAll(List.of("runuser", "-u", osUser, "--"));
        }
        all.addAll(List.of(argv));
        return all;
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** The restored PostgreSQL, reached with psql as its OS user (so peer authentication works). */
    private record Instance(Appliance appliance, String osUser, Path binDir, Path pgdata, Path runDir, int port, Path logFile) {
        boolean alive() {
            return Files.exists(pgdata.resolve("postmaster.pid"));
        }

        String log() throws IOException {
            return Files.readString(logFile);
        }

        Optional<String[]> trySql(String sql) {
            ProcessResult r = appliance.runner().run(Command.of(asUser(osUser, binDir.resolve("psql").toString(), "-X", "-A",
                    "-t", "-F", "|", "-h", runDir.toString(), "-p", Integer.toString(port), "-d", "postgres", "-c", sql))
                    .timeout(Duration.ofSeconds(30)));
            return r.succeeded() ? Optional.of(r.stdout().strip().split("\\|", -1)) : Optional.empty();
        }

        String sql(String sql) {
            return trySql(sql).map(f -> String.join("|", f))
                    .orElseThrow(() -> new IllegalStateException("the restored PostgreSQL did not answer: " + sql));
        }

        void awaitPromoted() throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (!trySql("select pg_is_in_recovery()").map(f -> f[0].equals("f")).orElse(false)) {
                if (System.nanoTime() > deadline || !alive()) {
                    throw new IllegalStateException("the restored PostgreSQL did not finish promoting");
                }
                Thread.sleep(100);
            }
        }

        void stop(String mode) {
            appliance.runner().run(Command.of(asUser(osUser, binDir.resolve("pg_ctl").toString(), "stop", "-D", pgdata.toString(),
                    "-m", mode, "-w", "-t", "120")).timeout(Duration.ofMinutes(3))).requireSuccess();
        }
    }
}
