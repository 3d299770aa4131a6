package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Benchmark (issue 5, item 7), not a test: its name matches neither *Test nor *IT, so CI never
 * runs it. {@code bench/restore.sh} runs it through failsafe.
 *
 * <p>Time-to-queryable of {@code zpitr restore --to-time T} against pgBackRest's full restore of
 * the same database to the same target, at several pgbench scales, with the same workload (hence
 * about the same WAL) between the backups and T. Per scale:
 * <ol>
 *   <li>a primary on ordinary disk (ext4); {@code pgbench -i -s S} (its WAL is not archived: no
 *       restore needs it); archive_command pushes each segment to a pgBackRest repository on local
 *       disk and copies it into a plain folder, zpitr's local archive source;</li>
 *   <li>a pgBackRest full backup;</li>
 *   <li>the zpitr standby: {@code pg_basebackup} onto a zfs-fuse dataset, fed by
 *       {@code bin/zpitr wal-fetch}, replayed to consistency, {@code zpitr snapshot}; then it is
 *       stopped, so that it does not compete with the restores;</li>
 *   <li>{@code pgbench -t} for a fixed number of transactions on the primary; T; a little more
 *       WAL after T; switch and archive;</li>
 *   <li>timed: (a) {@code bin/zpitr restore --to-time T} until it returns (target reached,
 *       promoted) and a query answers; (b) {@code pgbackrest restore --type=time --target=T
 *       --target-action=promote} into an empty folder on ext4, {@code pg_ctl start}, until the
 *       server is promoted and a query answers;</li>
 *   <li>both restored instances must agree (pgbench_accounts count and sum of abalance,
 *       pgbench_history count, which must equal the transactions before T).</li>
 * </ol>
 *
 * <p>System properties: {@code bench.scales} (default {@code 70,350}), {@code bench.transactions}
 * (total pgbench transactions before T, default 30000), {@code bench.clients} (default 2),
 * {@code bench.recordsize} (ZFS recordsize of the standby's dataset, default {@code 8k}),
 * {@code bench.results} (a file that receives every printed line too).
 */
class RestoreBench {
    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final Path BIN = PostgresCluster.DEFAULT_BIN_DIR;
    static final Pattern CLONED = Pattern.compile("cloned \\S+ \\(\\d+ dataset\\(s\\)\\) in (\\d+) ms");
    static final Pattern CONNECT = Pattern.compile("connect:\\s+\\S+ -h (\\S+) -p (\\d+)");

    final ProcessRunner runner = new ProcessRunner();
    final List<String> summary = new ArrayList<>();
    /** The pgBackRest configuration of the scale being run. */
    Path pgbrConf;

    Path results;
    /** Whether the timed restores start with cold caches (bench.cold). */
    boolean cold;
    /** pgbench transactions after T (bench.after): a few, or enough to put T deep inside the archive. */
    int after;

    @Test
    void restoreTimeToQueryable() throws Exception {
        String scales = System.getProperty("bench.scales", "70,350");
        int transactions = Integer.getInteger("bench.transactions", 30000);
        after = Integer.getInteger("bench.after", 500);
        int clients = Integer.getInteger("bench.clients", 2);
        String recordsize = System.getProperty("bench.recordsize", "8k");
        String resultsFile = System.getProperty("bench.results", "");
        cold = Boolean.parseBoolean(System.getProperty("bench.cold", "false"));
        results = resultsFile.isBlank() ? null : Path.of(resultsFile);
        if (results != null) {
            Files.createDirectories(results.toAbsolutePath().getParent());
        }
        transactions -= transactions % clients;

        print("zpitr restore benchmark: time-to-queryable of a point-in-time restore, zpitr against pgBackRest");
        print("started   " + Instant.now() + " on " + sh("uname", "-n").strip() + ": "
                + Runtime.getRuntime().availableProcessors() + " cores, "
                + sh("sh", "-c", "free -g | awk '/^Mem:/ {print $2 \" GB RAM\"}'")
                        .strip()
                + ", load average " + loadAverage());
        print("software  " + sh(BIN.resolve("postgres").toString(), "--version").strip() + "; "
                + sh("pgbackrest", "version").strip() + " (Debian); ZFS: zfs-fuse (user space, pool version 23)");
        print("workload  pgbench -i -s SCALE on the primary, then pgbench -n -t " + transactions / clients + " -c "
                + clients + " -j " + clients + " (" + transactions
                + " transactions) after both backups; T after the last of them;");
        print("          " + after
                + " more transactions after T, then the WAL is switched and archived. Same workload at every scale.");
        print("disks     ext4: primary, pgBackRest repository (compress-type=none, process-max=2), plain WAL folder,");
        print("          pgBackRest's restore target. zfs-fuse: the zpitr standby (recordsize=" + recordsize
                + ") and zpitr's clones.");
        print(
                "settings  shared_buffers=512MB, max_wal_size=4GB, checkpoint_timeout=30min (the primary's; both restored");
        print("          instances inherit them). The machine may be shared with other work: see the load averages.");
        print(
                cold
                        ? "caches    cold: before the timed restores, the pgBackRest repository, the plain WAL folder and the pool's\n"
                                + "          file are dropped from the page cache (only those files), and the pool is exported and imported\n"
                                + "          (empties zfs-fuse's ARC for it)."
                        : "caches    warm: the pgBackRest repository was just written and the standby just snapshotted; nothing is\n"
                                + "          evicted (bench.cold=true / BENCH_COLD=1 evicts them first).");
        print("");

        for (String s : scales.split(",")) {
            int scale = Integer.parseInt(s.strip());
            runScale(scale, transactions, clients, recordsize);
        }

        print("");
        print("summary (T = time-to-queryable; zpitr's clone is part of its T)");
        print(String.format(
                Locale.ROOT,
                "%6s %9s %10s %10s %11s %11s %15s %13s",
                "scale",
                "db size",
                "WAL to T",
                "zpitr T",
                "zpitr clone",
                "after clone",
                "pgBackRest T",
                "pgBR/zpitr"));
        summary.forEach(this::print);
        print("finished  " + Instant.now() + ", load average " + loadAverage());
    }

    private void runScale(int scale, int transactions, int clients, String recordsize) throws Exception {
        print("== scale " + scale + " ==");
        Path root = Files.createTempDirectory(
                Path.of("/var/tmp"),
                "zpitr-rbench-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        // Room for the data, the standby's WAL and the clone's rewrites; the file is sparse.
        ZfsPool pool = ZfsPool.ofSize(Math.max(3L << 30, scale * (48L << 20)));
        PostgresCluster primary = null;
        PostgresCluster standby = null;
        Path config = root.resolve("zpitr/zpitr.yaml");
        Path pgbrData = root.resolve("pgbr-restore/data");
        String restoreName = "b" + scale;
        Thread hook = new Thread(() -> {});
        try {
            Path archive = root.resolve("archive");
            Path pgbr = root.resolve("pgbackrest");
            pgbrConf = pgbr.resolve("pgbackrest.conf");
            Path archiveOff = root.resolve("archive.off");
            for (Path d : List.of(
                    archive,
                    pgbr.resolve("repo"),
                    pgbr.resolve("log"),
                    pgbr.resolve("lock"),
                    pgbr.resolve("spool"),
                    root.resolve("pgbr-restore/run"),
                    config.getParent().resolve("state"))) {
                Files.createDirectories(d);
            }
            // To the pgBackRest repository, then into the plain folder zpitr reads; nothing is kept
            // while archive.off exists (the initial load, which no restore needs).
            String archiveCommand = "test -e " + archiveOff + " || { pgbackrest --config=" + pgbrConf
                    + " --stanza=bench archive-push %p && cp %p " + archive + "/%f.tmp && mv " + archive + "/%f.tmp "
                    + archive + "/%f; }";
            sh("chown", "-R", "postgres:postgres", root.toString());

            primary = PostgresCluster.builder()
                    .setting("wal_level", "replica")
                    .setting("archive_mode", "on")
                    .setting("archive_command", archiveCommand)
                    .setting("max_wal_senders", "4")
                    .setting("shared_buffers", "512MB")
                    .setting("max_wal_size", "4GB")
                    .setting("checkpoint_timeout", "30min")
                    .build()
                    .start();
            PostgresCluster pri = primary;
            Files.writeString(
                    pgbrConf,
                    "[global]\n"
                            + "repo1-path=" + pgbr.resolve("repo") + "\n"
                            + "repo1-retention-full=1\n"
                            + "log-path=" + pgbr.resolve("log") + "\n"
                            + "lock-path=" + pgbr.resolve("lock") + "\n"
                            + "spool-path=" + pgbr.resolve("spool") + "\n"
                            + "compress-type=none\nprocess-max=2\nstart-fast=y\n"
                            + "log-level-console=warn\nlog-level-file=info\n\n"
                            + "[bench]\n"
                            + "pg1-path=" + primary.dataDir() + "\n"
                            + "pg1-socket-path=" + primary.socketDir() + "\n"
                            + "pg1-port=" + primary.port() + "\n");
            sh("chown", "postgres:postgres", pgbrConf.toString());
            pgbackrest(Duration.ofMinutes(2), "stanza-create");

            // 1. The database, on ext4; its load is not archived.
            Files.createFile(archiveOff);
            long t = System.nanoTime();
            runLong(
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
            sql(primary, "checkpoint", Duration.ofMinutes(10));
            double load = secondsSince(t);
            Files.delete(archiveOff);
            long dbBytes = Long.parseLong(primary.psql("select pg_database_size('postgres')"));
            print(String.format(
                    Locale.ROOT,
                    "  database: %s (pg_database_size), pgbench_accounts %,d rows",
                    gb(dbBytes),
                    scale * 100_000L));
            print(phase("pgbench -i -s " + scale + " + checkpoint on the primary", "ext4", load, ""));
            pgbackrest(Duration.ofMinutes(2), "check");

            // 2. pgBackRest's full backup.
            String lsnBeforePgbr = primary.psql("select pg_current_wal_lsn()");
            t = System.nanoTime();
            pgbackrest(Duration.ofMinutes(30), "--type=full", "backup");
            print(phase("pgBackRest full backup (repository on local disk)", "ext4", secondsSince(t), ""));

            // 3. zpitr's standby on zfs-fuse, its snapshot.
            t = System.nanoTime();
            pool.start();
            String p = pool.name();
            pool.zfs("create", "-o", "recordsize=" + recordsize, p + "/pg");
            pool.zfs("create", p + "/pg/data");
            Path pgdata = pool.mountpoint().resolve("pg/data/pgdata");
            sh(
                    "chown",
                    "-R",
                    "postgres:postgres",
                    pool.mountpoint().resolve("pg").toString());
            String lsnBeforeStandby = primary.psql("select pg_current_wal_lsn()");
            runLong(
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
                            "--no-sync"),
                    Duration.ofMinutes(30));
            Files.createFile(pgdata.resolve("standby.signal"));
            print(phase(
                    "pg_basebackup of the standby onto a zfs-fuse dataset ("
                            + pool.zfs("get", "-H", "-o", "value", "used", p + "/pg/data")
                                    .strip() + ")",
                    "zfs-fuse",
                    secondsSince(t),
                    ""));

            t = System.nanoTime();
            Path mountRoot = pool.mountpoint().resolve("restore");
            Files.writeString(
                    config,
                    "timezone: UTC\nstate_dir: " + config.getParent().resolve("state") + "\n"
                            + "zfs:\n  datasets: [" + p + "/pg/data]\n"
                            + "postgres:\n  bin_dir: " + BIN + "\n  data_dir: " + pgdata + "\n  os_user: postgres\n"
                            + "archive:\n  prefetch: 8\n  sources:\n    - {name: nfs, type: local, path: " + archive
                            + "}\n"
                            + "restore:\n  dataset_root: " + p + "/restore\n  mount_root: " + mountRoot
                            + "\n  port: 26432\n"
                            + "audit:\n  log: " + config.getParent().resolve("audit.jsonl") + "\n");
            sh("chown", "-R", "postgres:postgres", config.getParent().toString());
            standby = PostgresCluster.builder()
                    .dataDir(pgdata)
                    .initdb(false)
                    .setting("restore_command", LAUNCHER + " --config " + config + " wal-fetch %f %p")
                    .setting("hot_standby", "on")
                    .build();
            standby.start();
            PostgresCluster stb = standby;
            hook = new Thread(() -> cleanUp(config, restoreName, pgbrData, stb, pri, pool, root), "rbench-cleanup");
            Runtime.getRuntime().addShutdownHook(hook);
            switchAndWaitForStandby(primary, standby, archive);
            Files.writeString(
                    config,
                    Files.readString(config)
                            .replace(
                                    "  os_user: postgres\n",
                                    "  os_user: postgres\n  standby: {host: " + standby.socketDir() + ", port: "
                                            + standby.port() + ", user: postgres}\n"));
            ProcessResult snap = zpitr(config, Duration.ofMinutes(5), "snapshot", "--label", "bench");
            requireOk(snap, "zpitr snapshot");
            String snapLsn = standby.psql("select pg_last_wal_replay_lsn()");
            print(phase(
                    "standby consistent (fed by zpitr wal-fetch) + zpitr snapshot",
                    "zfs-fuse",
                    secondsSince(t),
                    snap.stdout().strip().lines().reduce((a, b) -> b).orElse("")));
            standby.stop();

            // 4. The same workload at every scale; T after it; a little more WAL after T.
            String lsnBeforeRun = primary.psql("select pg_current_wal_lsn()");
            t = System.nanoTime();
            runLong(
                    primary.asPostgres(
                            "pgbench",
                            "-n",
                            "-t",
                            Integer.toString(transactions / clients),
                            "-c",
                            Integer.toString(clients),
                            "-j",
                            Integer.toString(clients),
                            "-h",
                            primary.socketDir().toString(),
                            "-p",
                            Integer.toString(primary.port()),
                            "postgres"),
                    Duration.ofMinutes(30));
            double run = secondsSince(t);
            String lsnAtT = primary.psql("select pg_current_wal_lsn()");
            Thread.sleep(1100);
            String target = primary.psql("select clock_timestamp()");
            Thread.sleep(1100);
            runLong(
                    primary.asPostgres(
                            "pgbench",
                            "-n",
                            "-t",
                            Integer.toString(Math.max(1, after / 2)),
                            "-c",
                            "2",
                            "-j",
                            "2",
                            "-h",
                            primary.socketDir().toString(),
                            "-p",
                            Integer.toString(primary.port()),
                            "postgres"),
                    Duration.ofMinutes(5));
            String last = primary.psql("select pg_walfile_name(pg_switch_wal())");
            waitArchived(archive, last);
            long walRun = lsnDiff(primary, lsnAtT, lsnBeforeRun);
            long walZpitr = lsnDiff(primary, lsnAtT, snapLsn);
            long walPgbr = lsnDiff(primary, lsnAtT, lsnBeforePgbr);
            print(phase(
                    "pgbench -t " + transactions / clients + " -c " + clients + " on the primary",
                    "ext4",
                    run,
                    String.format(Locale.ROOT, "%.0f tps, WAL %s", transactions / run, mb(walRun))));
            print("  target T = " + target + "; WAL to replay: zpitr from its snapshot " + mb(walZpitr)
                    + ", pgBackRest from its backup's start " + mb(walPgbr));
            primary.stop();
            if (cold) {
                evict(pool, archive, pgbr.resolve("repo"));
            }

            // 5a. zpitr restore, timed until the command returns and a query answers.
            String zLoad = loadAverage();
            Instant zStart = Instant.now();
            t = System.nanoTime();
            ProcessResult r =
                    zpitr(config, Duration.ofMinutes(30), "restore", "--to-time", target, "--name", restoreName);
            requireOk(r, "zpitr restore");
            Matcher connect = CONNECT.matcher(r.stdout());
            if (!connect.find()) {
                throw new AssertionError("no connect line in:\n" + r.stdout());
            }
            Path zSock = Path.of(connect.group(1));
            int zPort = Integer.parseInt(connect.group(2));
            requireEquals("1", sql(zSock, zPort, "select 1", Duration.ofSeconds(30)), "zpitr's instance answers");
            double zpitrSecs = secondsSince(t);
            Matcher cloned = CLONED.matcher(r.stdout());
            if (!cloned.find()) {
                throw new AssertionError("no 'cloned ... in N ms' line in:\n" + r.stdout());
            }
            long cloneMs = Long.parseLong(cloned.group(1));
            String reached = r.stdout()
                    .lines()
                    .filter(l -> l.startsWith("reached:"))
                    .findFirst()
                    .orElse("?");
            print(String.format(
                    Locale.ROOT,
                    "  (a) zpitr restore --to-time T               [zfs-fuse] %8.1f s to queryable"
                            + " (load average before: %s)",
                    zpitrSecs,
                    zLoad));
            print("      zpitr printed: " + cloned.group());
            print("      zpitr printed: " + reached);
            print("      from its server log: "
                    + breakdown(
                            zStart, mountRoot.resolve(restoreName).resolve("postgresql.log"), zStart.plusNanos((long)
                                    (zpitrSecs * 1e9))));
            startUp(mountRoot.resolve(restoreName).resolve("postgresql.log")).forEach(l -> print("        " + l));
            afterTarget(mountRoot.resolve(restoreName).resolve("postgresql.log"), zStart.plusNanos((long)
                            (zpitrSecs * 1e9)))
                    .forEach(l -> print("        " + l));

            // 5b. pgBackRest restore into an empty folder on ext4, start, wait for promotion at T.
            Path pgbrRun = root.resolve("pgbr-restore/run");
            Files.createDirectories(pgbrData);
            Files.setPosixFilePermissions(pgbrData, PosixFilePermissions.fromString("rwx------"));
            sh("chown", "postgres:postgres", pgbrData.toString());
            int bPort = freePort();
            Path bLog = root.resolve("pgbr-restore/postgresql.log");
            String bLoad = loadAverage();
            Instant bStart = Instant.now();
            t = System.nanoTime();
            pgbackrest(
                    Duration.ofMinutes(30),
                    "--pg1-path=" + pgbrData,
                    "--type=time",
                    "--target=" + target,
                    "--target-action=promote",
                    "restore");
            double restoreOnly = secondsSince(t);
            runLong(
                    List.of(
                            "runuser",
                            "-u",
                            "postgres",
                            "--",
                            BIN.resolve("pg_ctl").toString(),
                            "start",
                            "-w",
                            "-t",
                            "1200",
                            "-D",
                            pgbrData.toString(),
                            "-l",
                            bLog.toString(),
                            "-o",
                            "-p " + bPort + " -k " + pgbrRun + " -c listen_addresses='' -c archive_mode=off"),
                    Duration.ofMinutes(25));
            long deadline = System.nanoTime() + Duration.ofMinutes(25).toNanos();
            while (!"f".equals(trySql(pgbrRun, bPort, "select pg_is_in_recovery()"))) {
                if (System.nanoTime() > deadline || !Files.exists(pgbrData.resolve("postmaster.pid"))) {
                    throw new AssertionError(
                            "pgBackRest's instance did not promote; its log:\n" + Files.readString(bLog));
                }
                Thread.sleep(100);
            }
            requireEquals(
                    "1", sql(pgbrRun, bPort, "select 1", Duration.ofSeconds(30)), "pgBackRest's instance answers");
            double pgbrSecs = secondsSince(t);
            String stopLine = Files.readString(bLog)
                    .lines()
                    .filter(l -> l.contains("recovery stopping"))
                    .findFirst()
                    .orElse("(no 'recovery stopping' line)");
            print(String.format(
                    Locale.ROOT,
                    "  (b) pgBackRest restore + start              [ext4]     %8.1f s to queryable"
                            + " (restore %.1f s, start to promoted %.1f s; load average before: %s)",
                    pgbrSecs,
                    restoreOnly,
                    pgbrSecs - restoreOnly,
                    bLoad));
            print("      server log: " + stopLine.replaceFirst("^.*?LOG:\\s*", ""));
            print("      from its server log: " + breakdown(bStart, bLog, bStart.plusNanos((long) (pgbrSecs * 1e9))));
            print(String.format(
                    Locale.ROOT,
                    "  ratio pgBackRest / zpitr: %.2fx (zpitr's clone phase: %d ms)",
                    pgbrSecs / zpitrSecs,
                    cloneMs));

            // 6. Both restored instances hold the same data: everything before T, nothing after.
            String check =
                    "select (select count(*) || ' accounts, sum(abalance) ' || sum(abalance) from pgbench_accounts)"
                            + " || ', history ' || (select count(*) from pgbench_history)";
            String z = sql(zSock, zPort, check, Duration.ofMinutes(20));
            String b = sql(pgbrRun, bPort, check, Duration.ofMinutes(20));
            print("  zpitr:      " + z);
            print("  pgBackRest: " + b);
            String expect = ", history " + transactions;
            boolean agree = z.equals(b) && z.endsWith(expect);
            print("  "
                    + (agree
                            ? "agree, and history holds exactly the " + transactions + " transactions before T"
                            : "DISAGREE (expected history " + transactions + ")"));
            print("  " + cloneRepeats(pool));
            summary.add(String.format(
                    Locale.ROOT,
                    "%6d %9s %10s %8.1f s %8d ms %9.1f s %13.1f s %12.2fx",
                    scale,
                    gb(dbBytes),
                    mb(walZpitr),
                    zpitrSecs,
                    cloneMs,
                    zpitrSecs - cloneMs / 1000.0,
                    pgbrSecs,
                    pgbrSecs / zpitrSecs));
            assertEquals(b, z, "both restores hold the same data");
            assertEquals(true, z.endsWith(expect), "history holds the transactions before T: " + z);
        } finally {
            cleanUp(config, restoreName, pgbrData, standby, primary, pool, root);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException | IllegalArgumentException e) {
                // shutting down, or never added
            }
            print("  cleaned up: restore dropped, clusters stopped, pool destroyed, " + root + " removed; load average "
                    + loadAverage());
            print("");
        }
    }

    /** Everything a scale made, in reverse order; each step on its own, so one failure does not stop the rest. */
    private synchronized void cleanUp(
            Path config,
            String restoreName,
            Path pgbrData,
            PostgresCluster standby,
            PostgresCluster primary,
            ZfsPool pool,
            Path root) {
        List<Runnable> steps = new ArrayList<>();
        steps.add(() -> {
            if (Files.exists(config)) {
                zpitr(config, Duration.ofMinutes(3), "restore-drop", restoreName);
            }
        });
        steps.add(() -> runner.run(Command.of("pkill", "-f", config + " wal-(prefetch|fetch )")));
        steps.add(() -> {
            if (Files.exists(pgbrData.resolve("postmaster.pid"))) {
                runner.run(Command.of(
                                "runuser",
                                "-u",
                                "postgres",
                                "--",
                                BIN.resolve("pg_ctl").toString(),
                                "stop",
                                "-D",
                                pgbrData.toString(),
                                "-m",
                                "immediate",
                                "-w")
                        .timeout(Duration.ofMinutes(2)));
            }
        });
        if (standby != null) {
            steps.add(standby::close);
        }
        if (primary != null) {
            steps.add(primary::close);
        }
        steps.add(pool::close);
        steps.add(() -> runner.run(Command.of("rm", "-rf", root.toString()).timeout(Duration.ofMinutes(5))));
        for (Runnable step : steps) {
            try {
                step.run();
            } catch (RuntimeException e) {
                System.err.println("rbench cleanup: " + e);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The bare `zfs clone` of the standby's snapshot, five times (each destroyed again): size-independence, with less noise. */
    private String cloneRepeats(ZfsPool pool) throws InterruptedException {
        String snapshot = pool.zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", pool.name() + "/pg/data")
                .lines()
                .findFirst()
                .orElseThrow();
        List<Long> ms = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            String clone = pool.name() + "/rbclone" + i;
            long t = System.nanoTime();
            runLong(List.of("zfs", "clone", snapshot, clone), Duration.ofMinutes(2));
            ms.add((System.nanoTime() - t) / 1_000_000);
            destroy(clone);
        }
        List<Long> sorted = ms.stream().sorted().toList();
        return "bare zfs clone of " + snapshot.substring(snapshot.indexOf('@')) + ", 5 times: median " + sorted.get(2)
                + " ms (min " + sorted.get(0) + ", max " + sorted.get(4) + "; " + ms + ")";
    }

    /** zfs destroy, retried while zfs-fuse still calls the just-unmounted dataset busy. */
    private void destroy(String dataset) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            ProcessResult r = runner.run(Command.of("zfs", "destroy", dataset));
            if (r.succeeded()) {
                return;
            }
            if (!r.stderr().contains("busy") || System.nanoTime() > deadline) {
                throw new AssertionError("zfs destroy " + dataset + ": " + r.stderr());
            }
            Thread.sleep(200);
        }
    }

    /**
     * Cold caches for both sides, touching nothing but this benchmark's files: the pool is exported
     * and imported (zfs-fuse drops its ARC for it), then the pool's file, the plain WAL folder and
     * the pgBackRest repository are flushed and dropped from the page cache (dd iflag=nocache).
     */
    private void evict(ZfsPool pool, Path archive, Path repo) throws InterruptedException {
        long t = System.nanoTime();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            ProcessResult r =
                    runner.run(Command.of("zpool", "export", pool.name()).timeout(Duration.ofMinutes(5)));
            if (r.succeeded()) {
                break;
            }
            if (!r.stderr().contains("busy") || System.nanoTime() > deadline) {
                throw new AssertionError("zpool export " + pool.name() + ": " + r.stderr());
            }
            Thread.sleep(500);
        }
        runLong(List.of("zpool", "import", "-d", ZfsPool.ROOT.toString(), pool.name()), Duration.ofMinutes(5));
        String files = ZfsPool.ROOT.resolve(pool.name() + ".img") + " " + archive + " " + repo;
        runLong(
                List.of(
                        "sh",
                        "-c",
                        "sync && find " + files + " -type f -exec dd if={} iflag=nocache count=0 status=none \\;"),
                Duration.ofMinutes(5));
        print(String.format(
                Locale.ROOT,
                "  caches dropped: pool exported and imported, page cache of its file, the WAL folder"
                        + " and the pgBackRest repository dropped (%.1f s)",
                secondsSince(t)));
    }

    private void switchAndWaitForStandby(PostgresCluster primary, PostgresCluster standby, Path archive)
            throws InterruptedException, IOException {
        String target = primary.psql("select pg_current_wal_lsn()");
        waitArchived(archive, primary.psql("select pg_walfile_name(pg_switch_wal())"));
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (!"t"
                .equals(trySql(
                        standby.socketDir(),
                        standby.port(),
                        "select coalesce(pg_last_wal_replay_lsn() >= '" + target + "', false)"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "standby did not replay to " + target + "; its log:\n" + Files.readString(standby.logFile()));
            }
            Thread.sleep(200);
        }
    }

    private static void waitArchived(Path archive, String segment) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (!Files.exists(archive.resolve(segment))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(segment + " was not archived within 5 minutes");
            }
            Thread.sleep(50);
        }
    }

    private ProcessResult zpitr(Path config, Duration timeout, String... args) {
        List<String> argv = new ArrayList<>(List.of(LAUNCHER.toString(), "--config", config.toString()));
        argv.addAll(Arrays.asList(args));
        return runner.run(Command.of(argv).timeout(timeout));
    }

    private void pgbackrest(Duration timeout, String... args) {
        List<String> argv = new ArrayList<>(
                List.of("runuser", "-u", "postgres", "--", "pgbackrest", "--config=" + pgbrConf, "--stanza=bench"));
        argv.addAll(Arrays.asList(args));
        runLong(argv, timeout);
    }

    private String runLong(List<String> argv, Duration timeout) {
        ProcessResult r = runner.run(Command.of(argv).timeout(timeout));
        requireOk(r, String.join(" ", argv));
        return r.stdout();
    }

    private static void requireOk(ProcessResult r, String what) {
        if (r.exitCode() != 0) {
            throw new AssertionError(what + " failed (exit " + r.exitCode() + "):\n" + r.stdout() + r.stderr());
        }
    }

    private static void requireEquals(String expected, String actual, String what) {
        if (!expected.equals(actual)) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }

    private String sh(String... argv) {
        return runLong(List.of(argv), Duration.ofMinutes(2));
    }

    private String sql(PostgresCluster pg, String sql, Duration timeout) {
        return sql(pg.socketDir(), pg.port(), sql, timeout);
    }

    private String sql(Path socketDir, int port, String sql, Duration timeout) {
        return runLong(psql(socketDir, port, sql), timeout).strip();
    }

    /** The query's output, or null when the server does not answer (yet). */
    private String trySql(Path socketDir, int port, String sql) {
        ProcessResult r = runner.run(Command.of(psql(socketDir, port, sql)).timeout(Duration.ofSeconds(30)));
        return r.succeeded() ? r.stdout().strip() : null;
    }

    private static List<String> psql(Path socketDir, int port, String sql) {
        return List.of(
                "runuser",
                "-u",
                "postgres",
                "--",
                BIN.resolve("psql").toString(),
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                socketDir.toString(),
                "-p",
                Integer.toString(port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                sql);
    }

    private static long lsnDiff(PostgresCluster pg, String a, String b) {
        return Long.parseLong(pg.psql("select pg_wal_lsn_diff('" + a + "', '" + b + "')::bigint"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            return s.getLocalPort();
        }
    }

    private static double secondsSince(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    static final Pattern LOG_TIME = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}) UTC ");

    /**
     * Where a restore's time went, from the timestamps ({@code log_line_prefix} '%m', UTC) of its
     * server log: before the server started, its start-up until redo starts, replay to the target,
     * and from the target until the promoted server answered.
     */
    private static String breakdown(Instant start, Path log, Instant end) {
        try {
            List<String> lines = Files.readAllLines(log);
            Instant started = logTime(lines, "starting PostgreSQL");
            Instant redo = logTime(lines, "redo starts at");
            Instant stop = logTime(lines, "recovery stopping");
            if (started == null || redo == null || stop == null) {
                return "(log lacks start, redo or stop lines)";
            }
            return String.format(
                    Locale.ROOT,
                    "before server start %.1f s, start-up to redo %.1f s, replay to T %.1f s,"
                            + " T to promoted and answering %.1f s",
                    secs(start, started),
                    secs(started, redo),
                    secs(redo, stop),
                    secs(stop, end));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The server log from its start to the start of redo, each line as its offset from the start. */
    private static List<String> startUp(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            Instant started = logTime(lines, "starting PostgreSQL");
            List<String> out = new ArrayList<>();
            for (String l : lines) {
                Matcher m = LOG_TIME.matcher(l);
                if (started != null && m.find()) {
                    Instant t = java.time.LocalDateTime.parse(m.group(1).replace(' ', 'T'))
                            .toInstant(java.time.ZoneOffset.UTC);
                    String text = l.substring(m.end()).strip();
                    out.add(String.format(
                            Locale.ROOT,
                            "S+%5d ms  %s",
                            Duration.between(started, t).toMillis(),
                            text.length() > 90 ? text.substring(0, 90) + "…" : text));
                }
                if (l.contains("redo starts at")) {
                    break;
                }
            }
            return out;
        } catch (IOException e) {
            return List.of("(no log: " + e.getMessage() + ")");
        }
    }

    /** The server log from the target on, each line as its offset from the target: where "T to promoted" went. */
    private static List<String> afterTarget(Path log, Instant end) {
        try {
            List<String> lines = Files.readAllLines(log);
            Instant stop = logTime(lines, "recovery stopping");
            if (stop == null) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            boolean after = false;
            for (String l : lines) {
                Matcher m = LOG_TIME.matcher(l);
                after |= l.contains("recovery stopping");
                if (after && m.find()) {
                    Instant t = java.time.LocalDateTime.parse(m.group(1).replace(' ', 'T'))
                            .toInstant(java.time.ZoneOffset.UTC);
                    String text = l.substring(m.end()).strip();
                    out.add(String.format(
                            Locale.ROOT,
                            "T+%5d ms  %s",
                            Duration.between(stop, t).toMillis(),
                            text.length() > 90 ? text.substring(0, 90) + "…" : text));
                }
            }
            out.add(String.format(
                    Locale.ROOT,
                    "T+%5d ms  (the bench's first query answered)",
                    Duration.between(stop, end).toMillis()));
            return out;
        } catch (IOException e) {
            return List.of("(no log: " + e.getMessage() + ")");
        }
    }

    private static Instant logTime(List<String> lines, String marker) {
        for (String l : lines) {
            Matcher m = LOG_TIME.matcher(l);
            if (l.contains(marker) && m.find()) {
                return java.time.LocalDateTime.parse(m.group(1).replace(' ', 'T'))
                        .toInstant(java.time.ZoneOffset.UTC);
            }
        }
        return null;
    }

    private static double secs(Instant a, Instant b) {
        return Duration.between(a, b).toMillis() / 1000.0;
    }

    private static String phase(String what, String disk, double seconds, String note) {
        return String.format(
                Locale.ROOT,
                "  %-74s [%s]%s %7.1f s%s",
                what,
                disk,
                disk.equals("ext4") ? "    " : "",
                seconds,
                note.isEmpty() ? "" : "  " + note);
    }

    private static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.0f MB", bytes / 1e6);
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    /** One line of results: to stdout and, when bench.results names a file, appended there. */
    private synchronized void print(String line) {
        System.out.println(line);
        System.out.flush();
        if (results != null) {
            try {
                Files.writeString(results, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
