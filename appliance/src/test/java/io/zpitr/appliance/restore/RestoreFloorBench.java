package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.zpitr.appliance.wal.WalLab;
import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.SshServer;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not a test (CI never runs it; {@code bench/restore-floor.sh} does): {@code zpitr
 * restore --to-time T} from two SSH archive hosts against the floor, a restore done by hand on a
 * clone of the same snapshot to the same T with {@code cp} from a local flat copy of the archive as
 * restore_command and {@code recovery_target_action = promote}, waiting until it answers as a
 * primary. Both in one run, alternating which goes first, {@code bench.rounds} rounds (default 3)
 * per WAL gap ({@code bench.segments}, default 10,100 segments of pgbench churn after the snapshot),
 * medians; each side's phases from its own server log.
 */
class RestoreFloorBench {
    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final Path BIN = PostgresCluster.DEFAULT_BIN_DIR;
    static final Pattern CONNECT = Pattern.compile("connect:\\s+\\S+ -h (\\S+) -p (\\d+)");
    static final Pattern LOG_TIME = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}) UTC ");
    /**
     * What each restore holds, compared across ways: pgbench's branches and their balance (each
     * transaction adds the same delta to an account and to its branch) and the history's length.
     * Not the accounts: at 20 GB a scan of them reads the whole clone through zfs-fuse (~150 s).
     */
    static final String CHECK = "select (select count(*) || ' branches, sum ' || sum(bbalance) from pgbench_branches)"
            + " || ', history ' || (select count(*) from pgbench_history)";

    static final String DATED = "20261201";

    final ProcessRunner runner = new ProcessRunner();

    /** Closes what it was given, last first, before the pool it lives on goes. */
    static final class Closer implements AutoCloseable {
        private final List<AutoCloseable> all = new ArrayList<>();

        void add(AutoCloseable c) {
            all.add(0, c);
        }

        @Override
        public void close() throws Exception {
            for (AutoCloseable c : all) {
                c.close();
            }
        }
    }

    Path results;
    List<String> ways;
    Path localConfig;
    Path mirrorConfig;

    /** One timed restore: total seconds and its phases. */
    record Run(String way, int round, double total, Map<String, Double> phases, String check) {}

    /** The archive hosts, whose sshd sessions' CPU each zpitr run reports. */
    List<SshServer> hosts = List.of();

    @Test
    void restoreAgainstTheByHandFloor() throws Exception {
        int rounds = Integer.getInteger("bench.rounds", 3);
        int scale = Integer.getInteger("bench.scale", 10);
        String gaps = System.getProperty("bench.segments", "10,100");
        String resultsFile = System.getProperty("bench.results", "");
        // "zpitr" as installed; "zpitr -Dname=value" with a JVM option (JAVA_TOOL_OPTIONS), to measure a lever.
        ways = List.of(System.getProperty("bench.ways", "by hand,zpitr").split(","));
        results = resultsFile.isBlank() ? null : Path.of(resultsFile);
        say("zpitr restore against the by-hand floor, " + Instant.now() + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, load " + loadAverage());
        try (SshServer hostA = SshServer.builder().build().start();
                SshServer hostB = SshServer.builder().build().start();
                WalLab lab = new WalLab(List.of(
                        hostA.dataDir().resolve("arch/" + DATED),
                        hostB.dataDir().resolve("arch/" + DATED)));
                // Room for the standby's data at any scale (pgbench: ~16 MB a scale unit), 6 GiB at least.
                ZfsPool pool = ZfsPool.ofSize(Math.max(6L << 30, scale * (24L << 20)));
                Closer closeLater = new Closer()) {
            hosts = List.of(hostA, hostB);
            pool.start();
            PostgresCluster primary = lab.primary();
            say("software: " + primary.psql("select version()").replaceAll(" on .*", "") + "; zfs-fuse");
            primary.psql("alter system set synchronous_commit = off");
            // The initialization's WAL is never replayed (the standby is a base backup taken after
            // it): not archived, so that a 20 GB fixture needs no three copies of it (two hosts and
            // the flat copy). Archiving resumes before the base backup.
            primary.psql("alter system set archive_command = '/bin/true'");
            primary.psql("select pg_reload_conf()");
            long t = System.nanoTime();
            run(
                    primary.asPostgres(
                            "pgbench",
                            "-i",
                            "-s",
                            Integer.toString(scale),
                            "-q",
                            "-h",
                            primary.socketDir().toString(),
                            "-p",
                            Integer.toString(primary.port()),
                            "postgres"),
                    Duration.ofMinutes(20));
            say(String.format(
                    Locale.ROOT,
                    "pgbench -i -s %d: %.1f s, database %s MB",
                    scale,
                    secondsSince(t),
                    Long.parseLong(primary.psql("select pg_database_size('postgres')")) >> 20));
            primary.psql("alter system reset archive_command");
            primary.psql("select pg_reload_conf()");

            // The standby on zfs-fuse, pg_wal outside ZFS as the runbook advises, fed by wal-fetch; its snapshot.
            String p = pool.name();
            pool.zfs("create", p + "/pg");
            // -Dbench.zfs.props=recordsize=8K (comma-separated): the standby dataset's properties, to
            // measure what the runbook recommends against ZFS's defaults.
            List<String> create = new ArrayList<>(List.of("create"));
            for (String prop : System.getProperty("bench.zfs.props", "").split(",")) {
                if (!prop.isBlank()) {
                    create.addAll(List.of("-o", prop.strip()));
                }
            }
            create.add(p + "/pg/data");
            pool.zfs(create.toArray(String[]::new));
            say("standby dataset " + p + "/pg/data: " + String.join(" ", create.subList(1, create.size() - 1)));
            Path pgdata = pool.mountpoint().resolve("pg/data/pgdata");
            Path externalWal = lab.root().resolve("standby-wal");
            sh(
                    "chown",
                    "-R",
                    "postgres:postgres",
                    pool.mountpoint().resolve("pg").toString());
            run(
                    primary.asPostgres(
                            "pg_basebackup",
                            "-h",
                            primary.socketDir().toString(),
                            "-p",
                            Integer.toString(primary.port()),
                            "-U",
                            "postgres",
                            "-D",
                            pgdata.toString(),
                            "-X",
                            "none",
                            "-c",
                            "fast",
                            "--waldir=" + externalWal),
                    Duration.ofMinutes(20));
            Files.createFile(pgdata.resolve("standby.signal"));
            Path keys = lab.root().resolve("keys");
            Files.createDirectories(keys);
            Path keyA = hostA.copyIdentityFor("postgres", keys.resolve("hostA"));
            Path keyB = hostB.copyIdentityFor("postgres", keys.resolve("hostB"));
            Path knownHosts = keys.resolve("known_hosts");
            Files.writeString(
                    knownHosts, Files.readString(hostA.knownHostsFile()) + Files.readString(hostB.knownHostsFile()));
            Path home = lab.root().resolve("zpitr");
            Files.createDirectories(home.resolve("state"));
            Path mountRoot = pool.mountpoint().resolve("restore");
            Path config = home.resolve("zpitr.yaml");
            Files.writeString(
                    config,
                    "timezone: UTC\nstate_dir: " + home.resolve("state") + "\n"
                            + "zfs:\n  datasets: [" + p + "/pg/data]\n"
                            + "postgres:\n  bin_dir: " + BIN + "\n  data_dir: " + pgdata + "\n  os_user: postgres\n"
                            + "archive:\n  prefetch: 8\n  sources:\n" + source("hostA", hostA, keyA, knownHosts)
                            + source("hostB", hostB, keyB, knownHosts)
                            + "restore:\n  dataset_root: " + p + "/restore\n  mount_root: " + mountRoot
                            + "\n  port: 27432\n"
                            + "audit:\n  log: " + home.resolve("audit.jsonl") + "\n");
            sh("chown", "-R", "postgres:postgres", lab.root().toString());
            PostgresCluster standby = PostgresCluster.builder()
                    .dataDir(pgdata)
                    .initdb(false)
                    .setting("restore_command", LAUNCHER + " --config " + config + " wal-fetch %f %p")
                    .setting("hot_standby", "on")
                    .build();
            standby.start();
            closeLater.add(standby);
            lab.switchAndWaitFor(standby);
            Files.writeString(
                    config,
                    Files.readString(config)
                            .replace(
                                    "  os_user: postgres\n",
                                    "  os_user: postgres\n  standby: {host: " + standby.socketDir() + ", port: "
                                            + standby.port() + ", user: postgres}\n"));
            ProcessResult snap = zpitr(config, Duration.ofMinutes(5), "snapshot", "--label", "floor");
            requireOk(snap, "zpitr snapshot");
            String snapshot = pool.zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", p + "/pg/data")
                    .strip()
                    .lines()
                    .reduce((a, b) -> b)
                    .orElseThrow();
            String snapSegment =
                    primary.psql("select pg_walfile_name('" + standby.psql("select pg_last_wal_replay_lsn()") + "')");
            standby.close();
            say("snapshot " + snapshot + " at segment " + snapSegment);
            // "zpitr local": the same restore with the floor's flat copy of the archive as its only
            // source (type: local), to tell the transport's share of the difference from the rest.
            localConfig = home.resolve("zpitr-local.yaml");
            Files.writeString(
                    localConfig,
                    Files.readString(config)
                            .replaceAll(
                                    "(?s)  sources:\n.*?(?=restore:)",
                                    "  sources:\n    - {name: flat, type: local, path: " + lab.archive() + "}\n"));
            sh("chown", "postgres:postgres", localConfig.toString());
            // "zpitr mirror": the two archive hosts, with the WAL mirror (archive.mirror_dir) the daemon
            // keeps; filled here by `zpitr wal-mirror` once the WAL of each part is archived.
            mirrorConfig = home.resolve("zpitr-mirror.yaml");
            Files.writeString(
                    mirrorConfig,
                    Files.readString(config)
                            .replace("archive:\n", "archive:\n  mirror_dir: " + home.resolve("wal-mirror") + "\n"));
            sh("chown", "postgres:postgres", mirrorConfig.toString());
            pkillPrefetchers(config);

            int immediateRounds = Integer.getInteger("bench.immediate", 0);
            if (immediateRounds > 0) {
                // The snapshot's consistent point may lie in the segment being written when it was
                // taken; the archive has it once that segment is switched out (a switch at the very
                // start of a segment switches nothing: write a row first).
                lab.insertRows(1);
                lab.switchAndWait();
                fillMirror();
                immediate(pool, snapshot, pgdata, lab.archive(), config, mountRoot, immediateRounds);
            }
            // -Dbench.hold=FILE (for tracing by hand): write where everything is into FILE, then wait
            // until FILE is deleted before the segment parts.
            String hold = System.getProperty("bench.hold", "");
            if (!hold.isBlank()) {
                Path holdFile = Path.of(hold);
                Files.writeString(
                        holdFile,
                        "config=" + config + "\nmirror_config=" + mirrorConfig + "\nlocal_config=" + localConfig
                                + "\nsnapshot=" + snapshot + "\npgdata=" + pgdata + "\narchive=" + lab.archive()
                                + "\nmount_root=" + mountRoot + "\n");
                say("holding until " + holdFile + " is deleted");
                while (Files.exists(holdFile)) {
                    Thread.sleep(500);
                }
            }
            List<String> summary = new ArrayList<>();
            for (String g : gaps.isBlank() ? new String[0] : gaps.split(",")) {
                int segments = Integer.parseInt(g.strip());
                // WAL after the snapshot: pgbench until the gap holds the segments asked for.
                while (segmentNumber(primary.psql("select pg_walfile_name(pg_current_wal_insert_lsn())"))
                                - segmentNumber(snapSegment)
                        < segments) {
                    run(
                            primary.asPostgres(
                                    "pgbench",
                                    "-n",
                                    "-c",
                                    "2",
                                    "-j",
                                    "2",
                                    "-T",
                                    "3",
                                    "-h",
                                    primary.socketDir().toString(),
                                    "-p",
                                    Integer.toString(primary.port()),
                                    "postgres"),
                            Duration.ofMinutes(5));
                    primary.psql("checkpoint"); // the next updates log full pages again: WAL comes faster
                }
                String target = primary.psql("select clock_timestamp()");
                Thread.sleep(1100);
                primary.psql("insert into t (id, note) values (" + (1000 + segments) + ", 'after T')");
                lab.switchAndWait();
                say("");
                say("== " + segments + " segments of pgbench WAL between the snapshot and T = " + target + " ==");
                fillMirror();
                List<Run> runs = new ArrayList<>();
                for (int round = 1; round <= rounds; round++) {
                    List<String> order = new ArrayList<>(ways);
                    java.util.Collections.rotate(order, round - 1); // each way goes first in turn
                    for (String way : order) {
                        settle();
                        String load = loadAverage();
                        long busy0 = busyJiffies();
                        double sshd0 = hostCpuSeconds();
                        double fuse0 = zfsFuseCpuSeconds();
                        Run r = way.startsWith("by hand")
                                ? byHand(pool, snapshot, pgdata, lab.archive(), target, round, segments, way)
                                : zpitrRestore(configFor(way, config), mountRoot, target, round, segments, way);
                        double busy = (busyJiffies() - busy0) / 100.0;
                        double sshd = hostCpuSeconds() - sshd0;
                        double fuse = zfsFuseCpuSeconds() - fuse0;
                        runs.add(r);
                        say(String.format(
                                Locale.ROOT,
                                "  round %d %-8s %6.2f s   %s   [%s]  load %s, CPU: machine %.1f s, zfs-fuse %.1f s,"
                                        + " archive hosts' sshd %.1f s",
                                round,
                                way,
                                r.total(),
                                phasesText(r.phases()),
                                r.check(),
                                load,
                                busy,
                                fuse,
                                sshd));
                    }
                }
                String firstCheck = runs.get(0).check();
                for (Run r : runs) {
                    assertEquals(firstCheck, r.check(), "every restore holds the same data at T");
                }
                double hand = median(runs, "by hand");
                for (String way : ways) {
                    double w = median(runs, way);
                    say(String.format(
                            Locale.ROOT,
                            "  median: %-14s %6.2f s; %s - by hand = %+.2f s; %s / by hand = %.2f (below 1 = zpitr"
                                    + " faster); phases %s",
                            way,
                            w,
                            way,
                            w - hand,
                            way,
                            w / hand,
                            phasesText(medianPhases(runs, way))));
                }
                for (String way : ways) {
                    if (!way.equals("by hand")) { // (a by-hand variant is listed against the floor too)
                        double w = median(runs, way);
                        summary.add(String.format(
                                Locale.ROOT,
                                "%8d %-14s %10.2f s %10.2f s %+10.2f s %8.2f",
                                segments,
                                way,
                                hand,
                                w,
                                w - hand,
                                w / hand));
                    }
                }
            }
            say("");
            say("summary (medians of " + rounds + " rounds; goal: zpitr - by hand <= 0.5 s; ratio = way / by hand,"
                    + " below 1 = zpitr faster)");
            say(String.format(
                    Locale.ROOT,
                    "%8s %-14s %12s %12s %12s %8s",
                    "segments",
                    "way",
                    "by hand",
                    "zpitr",
                    "difference",
                    "ratio"));
            summary.forEach(this::say);
            say("finished " + Instant.now() + ", load " + loadAverage());
            pkillPrefetchers(config);
        }
    }

    private Run zpitrRestore(Path config, Path mountRoot, String target, int round, int segments, String way)
            throws Exception {
        return zpitrRestore(
                config,
                mountRoot,
                List.of("--to-time", target),
                "z" + segments + "r" + round + "w" + ways.indexOf(way),
                round,
                way);
    }

    private Run zpitrRestore(Path config, Path mountRoot, List<String> targetArgs, String name, int round, String way)
            throws Exception {
        String jvmOptions = jvmOptionsOf(way);
        Instant start = Instant.now();
        long t = System.nanoTime();
        List<String> args = new ArrayList<>(List.of("restore"));
        args.addAll(targetArgs);
        args.addAll(List.of("--name", name));
        ProcessResult r = zpitrTraced(config, Duration.ofMinutes(30), jvmOptions, args.toArray(String[]::new));
        requireOk(r, "zpitr restore");
        if (System.getProperty("bench.trace") != null) {
            Files.writeString(Path.of(System.getProperty("bench.trace") + "-" + name + ".log"), r.stderr());
        }
        Matcher c = CONNECT.matcher(r.stdout());
        if (!c.find()) {
            throw new AssertionError("no connect line:\n" + r.stdout());
        }
        Path sock = Path.of(c.group(1));
        int port = Integer.parseInt(c.group(2));
        requireEquals("f", psql(sock, port, "select pg_is_in_recovery()"), "zpitr's instance is a primary");
        double total = secondsSince(t);
        Map<String, Double> phases = phases(start, mountRoot.resolve(name).resolve("postgresql.log"), total);
        String check = psql(sock, port, CHECK);
        if (System.getProperty("bench.trace") != null) {
            Files.copy(
                    mountRoot.resolve(name).resolve("postgresql.log"),
                    Path.of(System.getProperty("bench.trace") + "-" + name + "-server.log"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        requireOk(zpitr(config, Duration.ofMinutes(5), "restore-drop", name), "zpitr restore-drop");
        say("           zpitr "
                + r.stdout()
                        .lines()
                        .filter(l -> l.startsWith("timings:") || l.startsWith("WAL feed:"))
                        .reduce((a, b) -> a + "; " + b)
                        .orElse("")
                + "; " + cpuOf(r));
        return new Run(way, round, total, phases, check);
    }

    /** The floor: what a DBA does on the same clone by hand, with cp from a local copy of the archive. */
    private Run byHand(
            ZfsPool pool,
            String snapshot,
            Path livePgdata,
            Path flatArchive,
            String target,
            int round,
            int segments,
            String way)
            throws Exception {
        return byHandTo(
                pool,
                snapshot,
                livePgdata,
                flatArchive,
                "recovery_target_time = '" + target + "'",
                round,
                segments,
                way);
    }

    /**
     * A way named {@value} does the by-hand restore with the clone's {@code pg_wal} in a folder off
     * ZFS (beside the live standby's), as zpitr does when the snapshot's {@code pg_wal} is a link out
     * of it: the floor with the same lever, for comparison.
     */
    static final String BY_HAND_WAL_OFF_ZFS = "by hand wal-off-zfs";

    /** The floor with {@code targetLine} as what PostgreSQL is told to stop at. */
    private Run byHandTo(
            ZfsPool pool,
            String snapshot,
            Path livePgdata,
            Path flatArchive,
            String targetLine,
            int round,
            int segments,
            String way)
            throws Exception {
        boolean walOffZfs = way.equals(BY_HAND_WAL_OFF_ZFS);
        String clone = pool.name() + "/hand" + segments + "r" + round + (walOffZfs ? "w" : "");
        Path mount = pool.mountpoint().resolve("hand" + segments + "r" + round);
        Path pgdata = mount.resolve(livePgdata.getFileName());
        Path run = mount.resolve("run");
        Path log = mount.resolve("postgresql.log");
        int port = 28432;
        Instant start = Instant.now();
        long t = System.nanoTime();
        sh("zfs", "clone", "-o", "mountpoint=" + mount, snapshot, clone);
        Files.deleteIfExists(pgdata.resolve("postmaster.pid"));
        Files.deleteIfExists(pgdata.resolve("standby.signal"));
        Path wal = pgdata.resolve("pg_wal");
        Path walOff = null;
        if (Files.isSymbolicLink(wal)) {
            Path live = Files.readSymbolicLink(wal);
            Files.delete(wal);
            if (walOffZfs) {
                walOff = live.resolveSibling(Path.of(clone).getFileName() + "-wal");
                Files.createDirectories(walOff.resolve("archive_status"));
                Files.setPosixFilePermissions(walOff, PosixFilePermissions.fromString("rwx------"));
                sh("chown", "-R", "postgres:postgres", walOff.toString());
                Files.createSymbolicLink(wal, walOff);
            } else {
                Files.createDirectories(wal.resolve("archive_status"));
                Files.setPosixFilePermissions(wal, PosixFilePermissions.fromString("rwx------"));
            }
        }
        Files.createDirectories(run);
        Files.writeString(
                pgdata.resolve("postgresql.auto.conf"),
                "\nrestore_command = 'cp " + flatArchive + "/%f %p'\n"
                        + targetLine + "\nrecovery_target_action = 'promote'\n"
                        + "port = " + port + "\nunix_socket_directories = '" + run + "'\nlisten_addresses = ''\n"
                        + "archive_mode = off\nhot_standby = on\nlc_messages = 'C'\nlogging_collector = off\n",
                StandardOpenOption.APPEND);
        Files.createFile(pgdata.resolve("recovery.signal"));
        Files.createFile(log);
        sh(
                "chown",
                "-R",
                "postgres:postgres",
                wal.toString(),
                run.toString(),
                log.toString(),
                pgdata.resolve("recovery.signal").toString(),
                pgdata.resolve("postgresql.auto.conf").toString());
        sh(
                "runuser",
                "-u",
                "postgres",
                "--",
                BIN.resolve("pg_ctl").toString(),
                "start",
                "-W",
                "-D",
                pgdata.toString(),
                "-l",
                log.toString());
        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
        while (!"f".equals(tryPsql(run, port, "select pg_is_in_recovery()"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the by-hand restore did not promote:\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
        double total = secondsSince(t);
        Map<String, Double> phases = phases(start, log, total);
        String check = psql(run, port, CHECK);
        sh(
                "runuser",
                "-u",
                "postgres",
                "--",
                BIN.resolve("pg_ctl").toString(),
                "stop",
                "-m",
                "immediate",
                "-w",
                "-D",
                pgdata.toString());
        for (int attempt = 1; ; attempt++) {
            ProcessResult r = runner.run(Command.of("zfs", "destroy", clone));
            if (r.succeeded()) {
                break;
            }
            if (attempt == 20) {
                throw new AssertionError("zfs destroy " + clone + ": " + r.stderr());
            }
            Thread.sleep(500); // "dataset is busy" for about a second after the server stops (ENVIRONMENT.md)
        }
        if (walOff != null) {
            sh("rm", "-rf", "--", walOff.toString());
        }
        return new Run(way, round, total, phases, check);
    }

    /**
     * Issue 10, item 3: a clone at the snapshot's own consistent point, {@code zpitr restore
     * --immediate} against the same by hand ({@code recovery_target = 'immediate'}, promote),
     * alternating, until each answers as a primary.
     */
    private void immediate(
            ZfsPool pool, String snapshot, Path pgdata, Path flatArchive, Path config, Path mountRoot, int rounds)
            throws Exception {
        say("");
        say("== --immediate: the snapshot's own consistent point, queryable as a primary (goal: <= 2 s) ==");
        for (int i = 1; i <= 2; i++) { // what JVM start and the plan cost alone
            long t = System.nanoTime();
            ProcessResult dry = zpitrTraced(config, Duration.ofMinutes(5), "", "restore", "--immediate", "--dry-run");
            requireOk(dry, "zpitr restore --immediate --dry-run");
            say(String.format(
                    Locale.ROOT, "  dry run %d: %.2f s, %s, load %s", i, secondsSince(t), cpuOf(dry), loadAverage()));
        }
        List<Run> runs = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            List<String> order = new ArrayList<>(ways);
            java.util.Collections.rotate(order, round - 1);
            for (String way : order) {
                settle();
                String load = loadAverage();
                long busy0 = busyJiffies();
                Run r = way.startsWith("by hand")
                        ? byHandTo(pool, snapshot, pgdata, flatArchive, "recovery_target = 'immediate'", round, 0, way)
                        : zpitrRestore(
                                configFor(way, config),
                                mountRoot,
                                List.of("--immediate"),
                                "imm" + round + "w" + ways.indexOf(way),
                                round,
                                way);
                runs.add(r);
                say(String.format(
                        Locale.ROOT,
                        "  round %d %-8s %6.2f s   %s   [%s]  load %s, machine CPU %.1f s",
                        round,
                        way,
                        r.total(),
                        phasesText(r.phases()),
                        r.check(),
                        load,
                        (busyJiffies() - busy0) / 100.0));
            }
        }
        for (String way : ways) {
            say(String.format(
                    Locale.ROOT,
                    "  median: %-14s %.2f s; phases %s",
                    way,
                    median(runs, way),
                    phasesText(medianPhases(runs, way))));
        }
    }

    /** The config a way restores with: "zpitr local" the flat copy, "zpitr mirror" the hosts and the mirror. */
    private Path configFor(String way, Path config) {
        if (way.startsWith("zpitr local")) {
            return localConfig;
        }
        return way.startsWith("zpitr mirror") ? mirrorConfig : config;
    }

    /** JVM options given after a way's name ("zpitr mirror -Dx=y"). */
    private static String jvmOptionsOf(String way) {
        for (String prefix : List.of("zpitr local", "zpitr mirror", "zpitr")) {
            if (way.startsWith(prefix)) {
                return way.substring(prefix.length()).strip();
            }
        }
        return "";
    }

    /** When a way uses the mirror: one `zpitr wal-mirror` pass, as the daemon makes every 10 s. */
    private void fillMirror() {
        if (ways.stream().noneMatch(w -> w.startsWith("zpitr mirror"))) {
            return;
        }
        long t = System.nanoTime();
        ProcessResult r = zpitr(mirrorConfig, Duration.ofMinutes(10), "wal-mirror");
        requireOk(r, "zpitr wal-mirror");
        say(String.format(
                Locale.ROOT, "  (before the rounds) %s  [%.1f s]", r.stdout().strip(), secondsSince(t)));
    }

    /**
     * Seconds from the start of the restore to each milestone of its server log: the server's first
     * line (before: clone and configuration), recovery started (before: the start-up sync), the
     * first segment restored, the target reached, accepting connections as a primary, and answering.
     */
    private static Map<String, Double> phases(Instant start, Path log, double total) throws IOException {
        List<String> lines = Files.readAllLines(log);
        Map<String, Double> at = new LinkedHashMap<>();
        at.put("up", time(lines, "", start));
        at.put("recovering", time(lines, "starting point-in-time recovery", start));
        at.put("1st seg", time(lines, "restored log file", start));
        at.put("target", time(lines, "recovery stopping", start));
        if (Double.isNaN(at.get("target"))) { // recovery_target = 'immediate' stops without that line
            at.put("target", time(lines, "consistent recovery state reached", start));
        }
        at.put("primary", time(lines, "database system is ready to accept connections", start));
        at.put("answered", total);
        return at;
    }

    private static double time(List<String> lines, String marker, Instant start) {
        for (String l : lines) {
            Matcher m = LOG_TIME.matcher(l);
            if (m.find() && l.contains(marker)) {
                Instant when = LocalDateTime.parse(m.group(1), DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS"))
                        .toInstant(ZoneOffset.UTC);
                return Duration.between(start, when).toMillis() / 1000.0;
            }
        }
        return Double.NaN;
    }

    private static String phasesText(Map<String, Double> at) {
        StringBuilder s = new StringBuilder();
        double before = 0;
        for (Map.Entry<String, Double> e : at.entrySet()) {
            s.append(String.format(Locale.ROOT, "%s +%.2f  ", e.getKey(), e.getValue() - before));
            before = e.getValue();
        }
        return s.toString().strip();
    }

    private static double median(List<Run> runs, String way) {
        return median(
                runs.stream().filter(r -> r.way().equals(way)).map(Run::total).toList());
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static Map<String, Double> medianPhases(List<Run> runs, String way) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String k : runs.get(0).phases().keySet()) {
            m.put(
                    k,
                    median(runs.stream()
                            .filter(r -> r.way().equals(way))
                            .map(r -> r.phases().get(k))
                            .toList()));
        }
        return m;
    }

    private static long segmentNumber(String walFile) {
        return Long.parseLong(walFile.substring(8, 16), 16) * 256 + Long.parseLong(walFile.substring(16), 16);
    }

    private static String source(String name, SshServer h, Path identity, Path knownHosts) {
        return "    - {name: " + name + ", type: ssh, host: " + h.address() + ", port: " + h.port() + ", user: "
                + h.user()
                + ", path: " + h.dataDir().resolve("arch") + ", identity_file: " + identity
                + ", known_hosts: " + knownHosts + "}\n";
    }

    private ProcessResult zpitr(Path config, Duration timeout, String... args) {
        List<String> argv = new ArrayList<>(List.of(LAUNCHER.toString(), "--config", config.toString()));
        argv.addAll(List.of(args));
        return runner.run(Command.of(argv).timeout(timeout));
    }

    /** zpitr with one debug line per external command on its standard error when bench.trace is set. */
    private ProcessResult zpitrTraced(Path config, Duration timeout, String jvmOptions, String... args) {
        // GNU time's last stderr line: the CPU of zpitr and of every process it waited for (zfs, pg_ctl, psql).
        List<String> argv = new ArrayList<>(
                List.of("/usr/bin/time", "-f", "zpitr-cpu %U %S", LAUNCHER.toString(), "--config", config.toString()));
        argv.addAll(List.of(args));
        Map<String, String> env = new java.util.HashMap<>(System.getenv());
        if (System.getProperty("bench.trace") != null) {
            env.put("ZPITR_LOG_LEVEL", "debug");
        }
        if (!jvmOptions.isBlank()) {
            env.put("JAVA_TOOL_OPTIONS", jvmOptions);
        }
        return runner.run(Command.of(argv).environment(env).timeout(timeout));
    }

    /** "zpitr and its children CPU 1.23 s (user 1.00 s, system 0.23 s)" from GNU time's line. */
    private static String cpuOf(ProcessResult r) {
        Matcher m = Pattern.compile("zpitr-cpu ([\\d.]+) ([\\d.]+)").matcher(r.stderr());
        String found = null;
        while (m.find()) {
            double user = Double.parseDouble(m.group(1));
            double system = Double.parseDouble(m.group(2));
            found = String.format(
                    Locale.ROOT,
                    "zpitr and its children CPU %.2f s (user %.2f s, system %.2f s)",
                    user + system,
                    user,
                    system);
        }
        return found == null ? "zpitr CPU not reported" : found;
    }

    private void pkillPrefetchers(Path config) {
        runner.run(Command.of("pkill", "-f", config + " wal-(prefetch|fetch )"));
    }

    private String psql(Path socketDir, int port, String sql) {
        String r = tryPsql(socketDir, port, sql);
        if (r == null) {
            throw new AssertionError("no answer on port " + port + " to " + sql);
        }
        return r;
    }

    private String tryPsql(Path socketDir, int port, String sql) {
        ProcessResult r = runner.run(Command.of(
                        "runuser",
                        "-u",
                        "postgres",
                        "--",
                        BIN.resolve("psql").toString(),
                        "-X",
                        "-A",
                        "-t",
                        "-h",
                        socketDir.toString(),
                        "-p",
                        Integer.toString(port),
                        "-d",
                        "postgres",
                        "-c",
                        sql)
                .timeout(Duration.ofMinutes(5)));
        return r.succeeded() ? r.stdout().strip() : null;
    }

    private void run(List<String> argv, Duration timeout) {
        requireOk(runner.run(Command.of(argv).timeout(timeout)), String.join(" ", argv));
    }

    private String sh(String... argv) {
        ProcessResult r = runner.run(Command.of(List.of(argv)).timeout(Duration.ofMinutes(5)));
        requireOk(r, String.join(" ", argv));
        return r.stdout();
    }

    private static void requireOk(ProcessResult r, String what) {
        if (!r.succeeded()) {
            throw new AssertionError(what + " failed:\n" + r.stdout() + r.stderr());
        }
    }

    private static void requireEquals(String expected, String actual, String what) {
        if (!expected.equals(actual)) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * CPU time the whole machine spent busy (every process, other engineers' too on a shared machine),
     * in jiffies of 10 ms: user, nice, system, irq, softirq.
     */
    private static long busyJiffies() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7}) {
                busy += Long.parseLong(f[i]);
            }
            return busy;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * CPU the archive hosts' sshd sessions used, counted when they end (their listeners' reaped
     * children, from /proc/PID/stat): a restore's sessions end with its command.
     */
    private double hostCpuSeconds() {
        long ticks = 0;
        for (SshServer h : hosts) {
            try {
                String pid = Files.readString(h.hostKeyFile().resolveSibling("sshd.pid"))
                        .strip();
                String stat = Files.readString(Path.of("/proc", pid, "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]); // cutime, cstime (fields 16, 17)
            } catch (IOException | RuntimeException e) {
                return Double.NaN;
            }
        }
        return ticks / 100.0;
    }

    /** CPU the zfs-fuse daemon used so far (every pool's, other engineers' too on a shared machine). */
    /**
     * Before each timed restore: until zfs-fuse has been idle for 0.3 s (the previous restore's
     * destroyed clone freed in the background, its last transaction group written), at most 15 s, so
     * that no way starts on the work the one before it left. Only with {@code bench.settle} (default on).
     */
    private static void settle() throws InterruptedException {
        if (!Boolean.parseBoolean(System.getProperty("bench.settle", "true"))) {
            return;
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        double before = zfsFuseCpuSeconds();
        while (System.nanoTime() < deadline) {
            Thread.sleep(300);
            double now = zfsFuseCpuSeconds();
            if (!(now - before > 0.01)) { // (NaN: no daemon to watch)
                return;
            }
            before = now;
        }
    }

    private static double zfsFuseCpuSeconds() {
        try {
            String pid = Files.readString(Path.of("/run/zfs-fuse.pid")).strip();
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime (fields 14, 15)
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private synchronized void say(String line) {
        System.out.println(line);
        if (results != null) {
            try {
                Files.writeString(results, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
