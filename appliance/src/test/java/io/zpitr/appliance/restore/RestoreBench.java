package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Benchmark (issue 5, item 7; issue 10, item 2), not a test: its name matches neither *Test nor
 * *IT, so CI never runs it. {@code bench/restore.sh} runs it through failsafe.
 *
 * <p>Time-to-queryable of {@code zpitr restore --to-time T} against pgBackRest's full restore of
 * the same database to the same target, at several pgbench scales, with the same workload (hence
 * about the same WAL) between the backups and T. pgBackRest runs in its best configuration:
 * asynchronous archive-get ({@code archive-async=y}, {@code archive-get-queue-max=1GiB}, its spool
 * beside the restore target) and {@code process-max=2}. Per scale:
 * <ol>
 *   <li>a primary on ordinary disk (ext4); {@code pgbench -i -s S} (its WAL is not archived: no
 *       restore needs it); archive_command pushes each segment to a pgBackRest repository on local
 *       disk and copies it into a plain folder, zpitr's local archive source;</li>
 *   <li>a pgBackRest full backup;</li>
 *   <li>the zpitr standby: {@code pg_basebackup} onto a zfs-fuse dataset, its {@code pg_wal} on
 *       ext4 as the runbook lays it out ({@code --waldir}, docs/operations.md), fed by
 *       {@code bin/zpitr wal-fetch}, replayed to consistency, {@code zpitr snapshot}; then it is
 *       stopped, so that it does not compete with the restores;</li>
 *   <li>{@code pgbench -t} for a fixed number of transactions on the primary (its WAL rate is
 *       measured); T; a little more WAL after T; switch and archive;</li>
 *   <li>{@code bench.rounds} rounds, each timing three ways in an order rotated every round:
 *       (a) {@code bin/zpitr restore --to-time T} until it returns (target reached, promoted) and a
 *       query answers, then the restore is dropped; (b) {@code pgbackrest restore --type=time
 *       --target=T --target-action=promote} into a fresh dataset of the same zfs-fuse pool,
 *       {@code pg_ctl start}, until the server is promoted and a query answers, then it is stopped
 *       and the dataset destroyed; (c) the same onto ext4;</li>
 *   <li>every restored instance must hold the same data (pgbench_accounts count and sum of
 *       abalance, pgbench_history count, which must equal the transactions before T);</li>
 *   <li>from the server logs: MB of WAL replayed per second (redo starts to recovery stopping) on
 *       each file system; from those and the workload's WAL rate, the replay a target at a random
 *       time of day implies with hourly snapshots against a nightly base (computed, not
 *       measured).</li>
 * </ol>
 *
 * <p>System properties: {@code bench.scales} (default {@code 70,350}), {@code bench.rounds}
 * (default 3), {@code bench.transactions} (total pgbench transactions before T, default 30000),
 * {@code bench.clients} (default 2), {@code bench.recordsize} (ZFS recordsize of the standby's and
 * pgBackRest's datasets, default {@code 8k}), {@code bench.after} (transactions after T, default
 * 500), {@code bench.cold} (drop this run's files from the caches before every timed restore),
 * {@code bench.ext4} (default true; false leaves out (c), the reference restore onto ext4, for a
 * disk that cannot hold a fourth copy of the database), {@code bench.results} (a file that receives
 * every printed line too).
 */
class RestoreBench {
    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final Path BIN = PostgresCluster.DEFAULT_BIN_DIR;
    static final Pattern CLONED = Pattern.compile("cloned \\S+ \\(\\d+ dataset\\(s\\)\\) in (\\d+) ms");
    static final Pattern FOUND_ASYNC = Pattern.compile("found ([0-9A-F]{24}) in the repo\\d+");
    static final Pattern CONNECT = Pattern.compile("connect:\\s+\\S+ -h (\\S+) -p (\\d+)");
    static final String CHECK =
            "select (select count(*) || ' accounts, sum(abalance) ' || sum(abalance) from pgbench_accounts)"
                    + " || ', history ' || (select count(*) from pgbench_history)";
    static final String FASTER = "(below 1 = zpitr faster)";

    /** The three timed ways of each round. */
    enum Way {
        ZPITR("(a) zpitr restore --to-time T", "zfs-fuse", "zpitr"),
        PGBR_POOL("(b) pgBackRest restore + start, dataset of the same pool", "zfs-fuse", "pgBackRest same pool"),
        PGBR_EXT4("(c) pgBackRest restore + start, ext4", "ext4", "pgBackRest ext4");

        final String what;
        final String disk;
        final String label;

        Way(String what, String disk, String label) {
            this.what = what;
            this.disk = disk;
            this.label = label;
        }
    }

    /** One timed restore: time-to-queryable, and the replay its server log shows. */
    record Run(Way way, int round, double seconds, double replaySeconds, long replayBytes) {
        /** MB (10^6 bytes) of WAL replayed per second, from redo starts to recovery stopping. */
        double replayMbPerSecond() {
            return replaySeconds > 0 && replayBytes > 0 ? replayBytes / 1e6 / replaySeconds : Double.NaN;
        }
    }

    final ProcessRunner runner = new ProcessRunner();
    final List<String> summary = new ArrayList<>();
    final List<String> replaySummary = new ArrayList<>();
    final List<String> schedule = new ArrayList<>();
    /** zpitr restores that may exist and pgBackRest data directories that may run: what cleanUp must stop. */
    final List<String> liveRestores = Collections.synchronizedList(new ArrayList<>());

    final List<Path> livePgbr = Collections.synchronizedList(new ArrayList<>());
    /** The pgBackRest configuration of the scale being run. */
    Path pgbrConf;

    Path results;
    /** Whether every timed restore starts with cold caches (bench.cold). */
    boolean cold;
    /** pgbench transactions after T (bench.after): a few, or enough to put T deep inside the archive. */
    int after;
    /** ZFS recordsize of the standby's dataset and of pgBackRest's datasets. */
    String recordsize;
    /** pgBackRest restores whose PostgreSQL took every segment from the async spool, of all pgBackRest restores. */
    int asyncConfirmed;

    int pgbrRuns;
    /** The ways each round times: all three, or without (c) when bench.ext4 is false. */
    List<Way> ways;

    @Test
    void restoreTimeToQueryable() throws Exception {
        String scales = System.getProperty("bench.scales", "70,350");
        int rounds = Integer.getInteger("bench.rounds", 3);
        int transactions = Integer.getInteger("bench.transactions", 30000);
        after = Integer.getInteger("bench.after", 500);
        int clients = Integer.getInteger("bench.clients", 2);
        recordsize = System.getProperty("bench.recordsize", "8k");
        String resultsFile = System.getProperty("bench.results", "");
        cold = Boolean.parseBoolean(System.getProperty("bench.cold", "false"));
        ways = Boolean.parseBoolean(System.getProperty("bench.ext4", "true"))
                ? List.of(Way.values())
                : List.of(Way.ZPITR, Way.PGBR_POOL);
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
        print("pgBackRest  repository on ext4, compress-type=none, process-max=2; archive-get asynchronous"
                + " (archive-async=y, process-max=2,");
        print("          archive-get-queue-max=1GiB; log-level-file=detail for its async process), its spool-path"
                + " beside each");
        print("          restore's data directory (on the same file system).");
        print("rounds    " + rounds + " per scale; each round times (a) zpitr restore --to-time T (zfs-fuse clone),"
                + " (b) pgBackRest");
        print("          restore into a fresh dataset of the same zfs-fuse pool (recordsize=" + recordsize
                + ", as the standby's), (c) pgBackRest");
        print("          restore onto ext4"
                + (ways.contains(Way.PGBR_EXT4) ? "" : " (left out in this run: bench.ext4=false)")
                + "; the order rotates every round. Each restore is dropped (stopped, dataset destroyed or");
        print("          folder removed) before the next starts, so one restored instance runs at a time.");
        print("disks     ext4: primary, pgBackRest repository, plain WAL folder (zpitr's archive source), way (c)."
                + " zfs-fuse: the");
        print("          zpitr standby (recordsize=" + recordsize + ") and zpitr's clones, way (b).");
        print(
                "settings  shared_buffers=512MB, max_wal_size=4GB, checkpoint_timeout=30min (the primary's; every restored");
        print("          instance inherits them). The machine may be shared with other work: see the load averages.");
        print(
                cold
                        ? "caches    cold: before every timed restore, the pgBackRest repository, the plain WAL folder and the\n"
                                + "          pool's file are dropped from the page cache (only those files), and the pool is exported\n"
                                + "          and imported (empties zfs-fuse's ARC for it)."
                        : "caches    warm: nothing is evicted between the restores (bench.cold=true / BENCH_COLD=1 evicts"
                                + " them first).");
        print("ratios    every ratio is zpitr / pgBackRest " + FASTER + ".");
        print("");

        for (String s : scales.split(",")) {
            int scale = Integer.parseInt(s.strip());
            runScale(scale, rounds, transactions, clients);
        }

        print("");
        print("summary: medians of " + rounds + " rounds; T = time-to-queryable (zpitr's clone is part of its T)");
        print(String.format(
                Locale.ROOT,
                "%6s %9s %16s %9s %13s %13s %15s %15s",
                "scale",
                "db size",
                "WAL to T z/pgBR",
                "zpitr T",
                "pgBR pool T",
                "pgBR ext4 T",
                "zpitr/pgBR pool",
                "zpitr/pgBR ext4"));
        summary.forEach(this::print);
        print("          zpitr/pgBR pool: against pgBackRest restoring onto a dataset of the same zfs-fuse pool (the"
                + " fair pairing);");
        print("          zpitr/pgBR ext4: against pgBackRest restoring onto ext4 (reference). Both " + FASTER + ".");
        print("");
        print("replay speed: MB (10^6 bytes) of WAL replayed per second, from 'redo starts' to 'recovery stopping'"
                + " in the server");
        print("log (archive-get / wal-fetch included), median of the rounds; pgBackRest's two restores replay the"
                + " same WAL");
        print(String.format(
                Locale.ROOT,
                "%6s %11s %14s %15s %15s %22s",
                "scale",
                "WAL (pgBR)",
                "zpitr clone",
                "pgBR same pool",
                "pgBR ext4",
                "zfs-fuse / ext4 speed"));
        replaySummary.forEach(this::print);
        print("          zfs-fuse / ext4 speed: pgBackRest on the pool against pgBackRest on ext4 (below 1 = zfs-fuse"
                + " replays slower).");
        print("          pgBackRest's WAL (from its backup's start) includes the unused tails of the segments switched"
                + " away from");
        print("          between its backup and zpitr's snapshot (nothing to replay there), so its MB/s reads a little"
                + " high against zpitr's.");
        print("");
        print("what a snapshot schedule changes: COMPUTED from the measured replay speeds and the workload's WAL"
                + " rate, not measured");
        print("  replay = WAL rate x gap / replay speed, gap = time from the newest base to the target; a target at a"
                + " uniformly");
        print("  random time of day has mean gap = interval / 2 and worst gap = interval: zpitr snapshots hourly (mean"
                + " 30 min,");
        print(
                "  worst 60 min of WAL to replay), pgBackRest's full base is nightly (mean 12 h, worst 24 h). WAL rate: the"
                        + " pgbench run");
        print("  that made the gap (full-page writes after the backups' checkpoints included): a busy database."
                + " Replay only;");
        print("  the fixed part of each restore (clone or file copy, start-up, promotion) comes on top.");
        print(String.format(
                Locale.ROOT,
                "%6s %9s  %-27s %-27s %-27s %15s %15s",
                "scale",
                "WAL rate",
                "zpitr hourly: mean / worst",
                "pgBR pool nightly: mean/worst",
                "pgBR ext4 nightly: mean/worst",
                "zpitr/pgBR pool",
                "zpitr/pgBR ext4"));
        schedule.forEach(this::print);
        print("          ratios " + FASTER + "; the same for mean and worst (both gaps differ by 24x).");
        print("");
        print("async archive-get: " + asyncConfirmed + " of " + pgbrRuns
                + " pgBackRest restores confirmed asynchronous (every segment PostgreSQL restored was fetched"
                + " into the spool");
        print("          by the async process: a 'found X in the repo1: ... archive' line in"
                + " bench-archive-get-async.log)");
        print("finished  " + Instant.now() + ", load average " + loadAverage());
    }

    private void runScale(int scale, int rounds, int transactions, int clients) throws Exception {
        print("== scale " + scale + " ==");
        Path root = Files.createTempDirectory(
                Path.of("/var/tmp"),
                "zpitr-rbench-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        // Room for the standby, its WAL, one restore at a time (a clone's rewrites or pgBackRest's full
        // copy) and its WAL; the file is sparse.
        ZfsPool pool = ZfsPool.ofSize(Math.max(4L << 30, scale * (48L << 20)));
        PostgresCluster primary = null;
        PostgresCluster standby = null;
        Path config = root.resolve("zpitr/zpitr.yaml");
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
                    root.resolve("pgbr-run"),
                    root.resolve("pgbr-log"),
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
            // archive-async only in archive-get's section: the primary's archive-push stays as it was
            // (synchronous); every restore's restore_command (pgbackrest archive-get) reads this file.
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
                            + "[global:archive-get]\n"
                            + "archive-async=y\narchive-get-queue-max=1GiB\nprocess-max=2\nlog-level-file=detail\n\n"
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
                    Duration.ofMinutes(120));
            sql(primary, "checkpoint", Duration.ofMinutes(30));
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
            pgbackrest(Duration.ofMinutes(120), "--type=full", "backup");
            print(phase("pgBackRest full backup (repository on local disk)", "ext4", secondsSince(t), ""));

            // 3. zpitr's standby on zfs-fuse, its snapshot.
            t = System.nanoTime();
            pool.start();
            String p = pool.name();
            pool.zfs("create", "-o", "recordsize=" + recordsize, p + "/pg");
            pool.zfs("create", p + "/pg/data");
            Path pgdata = pool.mountpoint().resolve("pg/data/pgdata");
            // The runbook's layout: the standby's pg_wal off ZFS (docs/operations.md, "Where WAL lives").
            Path standbyWal = Files.createDirectories(root.resolve("standby-wal"));
            sh(
                    "chown",
                    "-R",
                    "postgres:postgres",
                    pool.mountpoint().resolve("pg").toString(),
                    standbyWal.toString());
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
                            "--waldir=" + standbyWal,
                            "-c",
                            "fast",
                            "--no-sync"),
                    Duration.ofMinutes(120));
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
            hook = new Thread(() -> cleanUp(config, stb, pri, pool, root), "rbench-cleanup");
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
            double walRate = walRun / run;
            print(phase(
                    "pgbench -t " + transactions / clients + " -c " + clients + " on the primary",
                    "ext4",
                    run,
                    String.format(
                            Locale.ROOT,
                            "%.0f tps, WAL %s: %.1f MB/s",
                            transactions / run,
                            mb(walRun),
                            walRate / 1e6)));
            print("  target T = " + target + "; WAL to replay: zpitr from its snapshot " + mb(walZpitr)
                    + ", pgBackRest from its backup's start " + mb(walPgbr));
            print("  (pgBackRest's extra WAL is mostly the rest of the segments its backup, the standby's"
                    + " pg_basebackup and the");
            print("  standby's catch-up switched away from: fetched, but nothing to replay in them)");
            // Its data directory goes too: the rounds need only the archive and the repository, and
            // at 20 GB the disk holds no fourth copy of the database beside the pool's two.
            primary.close();
            print("  primary stopped and removed (the rounds read only the archive and pgBackRest's repository)");

            // 5. Rounds: the three ways in a rotated order, one restored instance at a time.
            Map<Way, List<Run>> runs = new EnumMap<>(Way.class);
            for (Way w : Way.values()) {
                runs.put(w, new ArrayList<>());
            }
            Set<String> data = new LinkedHashSet<>();
            Set<String> stops = new LinkedHashSet<>();
            for (int round = 1; round <= rounds; round++) {
                List<Way> order = new ArrayList<>();
                for (int i = 0; i < ways.size(); i++) {
                    order.add(ways.get((i + round - 1) % ways.size()));
                }
                print("  -- round " + round + " of " + rounds + ", order "
                        + order.stream().map(w -> w.what.substring(0, 3)).toList() + " --");
                for (Way way : order) {
                    if (cold) {
                        evict(pool, archive, pgbr.resolve("repo"));
                    }
                    Run r;
                    if (way == Way.ZPITR) {
                        r = runZpitr(config, mountRoot, target, "b" + scale + "r" + round, round, data, stops);
                    } else {
                        boolean onPool = way == Way.PGBR_POOL;
                        String dataset = onPool ? p + "/pgbr-r" + round : null;
                        if (onPool) {
                            pool.zfs("create", "-o", "recordsize=" + recordsize, dataset);
                        }
                        Path base = onPool
                                ? pool.mountpoint().resolve("pgbr-r" + round)
                                : root.resolve("pgbr-ext4-r" + round);
                        r = runPgbr(
                                way,
                                round,
                                base,
                                dataset,
                                root.resolve("pgbr-run"),
                                root.resolve("pgbr-log").resolve((onPool ? "pool" : "ext4") + "-r" + round),
                                target,
                                round == 1,
                                data,
                                stops);
                    }
                    runs.get(way).add(r);
                }
            }

            // 6. Medians, ratios, replay speeds.
            double z = median(runs.get(Way.ZPITR), Run::seconds);
            double bp = median(runs.get(Way.PGBR_POOL), Run::seconds);
            double be = median(runs.get(Way.PGBR_EXT4), Run::seconds);
            print("  medians of " + rounds + " rounds, time-to-queryable:");
            for (Way w : ways) {
                List<Run> rs = runs.get(w);
                print(String.format(
                        Locale.ROOT,
                        "    %-58s [%s]%s %7.1f s  (runs: %s)",
                        w.what,
                        w.disk,
                        w.disk.equals("ext4") ? "    " : "",
                        median(rs, Run::seconds),
                        rs.stream()
                                .map(x -> String.format(Locale.ROOT, "%.1f", x.seconds()))
                                .toList()));
            }
            print(String.format(Locale.ROOT, "  zpitr / pgBackRest on the same pool: %.2f %s", z / bp, FASTER));
            if (ways.contains(Way.PGBR_EXT4)) {
                print(String.format(Locale.ROOT, "  zpitr / pgBackRest on ext4:         %.2f %s", z / be, FASTER));
            }
            double rz = median(runs.get(Way.ZPITR), Run::replayMbPerSecond);
            double rp = median(runs.get(Way.PGBR_POOL), Run::replayMbPerSecond);
            double re = median(runs.get(Way.PGBR_EXT4), Run::replayMbPerSecond);
            print(notRun(String.format(
                    Locale.ROOT,
                    "  replay speed (median): zpitr clone %.1f MB/s, pgBackRest same pool %.1f MB/s, pgBackRest ext4"
                            + " %.1f MB/s",
                    rz,
                    rp,
                    re)));
            if (ways.contains(Way.PGBR_EXT4)) {
                print(String.format(
                        Locale.ROOT,
                        "  zfs-fuse replay / ext4 replay (pgBackRest, the same WAL on each): speed %.2f (below 1 ="
                                + " zfs-fuse slower), i.e. zfs-fuse takes %.1fx as long",
                        rp / re,
                        re / rp));
            }

            // 7. Every restored instance holds the same data: everything before T, nothing after.
            stops.forEach(s -> print("  target reached: " + s));
            data.forEach(d -> print("  restored data: " + d));
            String expect = ", history " + transactions;
            boolean agree = data.size() == 1 && data.iterator().next().endsWith(expect);
            print("  "
                    + (agree
                            ? "all " + ways.size() * rounds + " restores agree, and history holds exactly the "
                                    + transactions + " transactions before T"
                            : "DISAGREE (expected one result, with history " + transactions + ")"));
            print("  " + cloneRepeats(pool));

            // A way left out (bench.ext4=false) has no median: "-" in the tables, not NaN.
            summary.add(notRun(String.format(
                    Locale.ROOT,
                    "%6d %9s %16s %7.1f s %11.1f s %11.1f s %15.2f %15.2f",
                    scale,
                    gb(dbBytes),
                    String.format(Locale.ROOT, "%.0f/%.0f MB", walZpitr / 1e6, walPgbr / 1e6),
                    z,
                    bp,
                    be,
                    z / bp,
                    z / be)));
            replaySummary.add(notRun(String.format(
                    Locale.ROOT,
                    "%6d %11s %9.1f MB/s %10.1f MB/s %10.1f MB/s %22.2f",
                    scale,
                    mb(walPgbr),
                    rz,
                    rp,
                    re,
                    rp / re)));
            // Replay of a gap: WAL rate x gap / replay speed.
            double zMean = walRate * 1800 / (rz * 1e6);
            double zWorst = walRate * 3600 / (rz * 1e6);
            double pMean = walRate * 43200 / (rp * 1e6);
            double pWorst = walRate * 86400 / (rp * 1e6);
            double eMean = walRate * 43200 / (re * 1e6);
            double eWorst = walRate * 86400 / (re * 1e6);
            schedule.add(notRun(String.format(
                    Locale.ROOT,
                    "%6d %4.1f MB/s  %-27s %-27s %-27s %15.3f %15.3f",
                    scale,
                    walRate / 1e6,
                    duration(zMean) + " / " + duration(zWorst),
                    duration(pMean) + " / " + duration(pWorst),
                    duration(eMean) + " / " + duration(eWorst),
                    zMean / pMean,
                    zMean / eMean)));
            assertTrue(agree, "every restore holds the same data, the transactions before T: " + data);
            assertEquals(
                    ways.size() * rounds,
                    runs.values().stream().mapToInt(List::size).sum(),
                    "runs");
        } finally {
            cleanUp(config, standby, primary, pool, root);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException | IllegalArgumentException e) {
                // shutting down, or never added
            }
            print("  cleaned up: restores dropped, clusters stopped, pool destroyed, " + root
                    + " removed; load average " + loadAverage());
            print("");
        }
    }

    /** (a) zpitr restore --to-time T until it returns and a query answers; then the restore is dropped. */
    private Run runZpitr(
            Path config, Path mountRoot, String target, String name, int round, Set<String> data, Set<String> stops)
            throws Exception {
        liveRestores.add(name);
        String load = loadAverage();
        Instant start = Instant.now();
        long t = System.nanoTime();
        ProcessResult r = zpitr(config, Duration.ofMinutes(60), "restore", "--to-time", target, "--name", name);
        requireOk(r, "zpitr restore");
        Matcher connect = CONNECT.matcher(r.stdout());
        if (!connect.find()) {
            throw new AssertionError("no connect line in:\n" + r.stdout());
        }
        Path sock = Path.of(connect.group(1));
        int port = Integer.parseInt(connect.group(2));
        requireEquals("1", sql(sock, port, "select 1", Duration.ofSeconds(30)), "zpitr's instance answers");
        double seconds = secondsSince(t);
        Instant end = start.plusNanos((long) (seconds * 1e9));
        Matcher cloned = CLONED.matcher(r.stdout());
        String clone = cloned.find() ? cloned.group(1) + " ms" : "?";
        ServerLog log = ServerLog.read(mountRoot.resolve(name).resolve("postgresql.log"));
        print(String.format(
                Locale.ROOT,
                "  %-58s [%s] %7.1f s to queryable (clone %s; load average before: %s)",
                Way.ZPITR.what,
                Way.ZPITR.disk,
                seconds,
                clone,
                load));
        print("      server log: " + log.breakdown(start, end));
        data.add(sql(sock, port, CHECK, Duration.ofMinutes(30)));
        if (log.stopLine() != null) {
            stops.add(log.stopLine());
        }
        requireOk(zpitr(config, Duration.ofMinutes(5), "restore-drop", name), "zpitr restore-drop " + name);
        liveRestores.remove(name);
        return new Run(Way.ZPITR, round, seconds, log.replaySeconds(), log.replayBytes());
    }

    /**
     * (b) or (c): pgbackrest restore into {@code base/data} (its spool in {@code base/spool}, its
     * own log in {@code pgbrLog}), pg_ctl start, until promoted and a query answers; then the
     * server is stopped and {@code base} removed (the dataset destroyed when there is one).
     */
    private Run runPgbr(
            Way way,
            int round,
            Path base,
            String dataset,
            Path runDir,
            Path pgbrLog,
            String target,
            boolean showCommand,
            Set<String> data,
            Set<String> stops)
            throws Exception {
        Path pgdata = base.resolve("data");
        Path spool = base.resolve("spool");
        Files.createDirectories(pgdata);
        Files.createDirectories(spool);
        Files.createDirectories(pgbrLog.resolve("lock"));
        Files.setPosixFilePermissions(pgdata, PosixFilePermissions.fromString("rwx------"));
        sh("chown", "-R", "postgres:postgres", base.toString(), pgbrLog.toString());
        int port = freePort();
        Path serverLog = base.resolve("postgresql.log");
        livePgbr.add(pgdata);
        String load = loadAverage();
        Instant start = Instant.now();
        long t = System.nanoTime();
        pgbackrest(
                Duration.ofMinutes(120),
                "--pg1-path=" + pgdata,
                "--spool-path=" + spool,
                "--log-path=" + pgbrLog,
                // Its own lock path too: an async archive-get still running from one restore can never
                // keep the next restore's archive-get from starting its own.
                "--lock-path=" + pgbrLog.resolve("lock"),
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
                        "3600",
                        "-D",
                        pgdata.toString(),
                        "-l",
                        serverLog.toString(),
                        "-o",
                        "-p " + port + " -k " + runDir + " -c listen_addresses='' -c archive_mode=off"),
                Duration.ofMinutes(61));
        long deadline = System.nanoTime() + Duration.ofMinutes(60).toNanos();
        while (!"f".equals(trySql(runDir, port, "select pg_is_in_recovery()"))) {
            if (System.nanoTime() > deadline || !Files.exists(pgdata.resolve("postmaster.pid"))) {
                throw new AssertionError(
                        "pgBackRest's instance did not promote; its log:\n" + Files.readString(serverLog));
            }
            Thread.sleep(100);
        }
        requireEquals("1", sql(runDir, port, "select 1", Duration.ofSeconds(30)), "pgBackRest's instance answers");
        double seconds = secondsSince(t);
        Instant end = start.plusNanos((long) (seconds * 1e9));
        ServerLog log = ServerLog.read(serverLog);
        print(String.format(
                Locale.ROOT,
                "  %-58s [%s]%s %7.1f s to queryable (restore %.1f s, start to promoted %.1f s; load average"
                        + " before: %s)",
                way.what,
                way.disk,
                way.disk.equals("ext4") ? "    " : "",
                seconds,
                restoreOnly,
                seconds - restoreOnly,
                load));
        print("      server log: " + log.breakdown(start, end));
        // Asynchronous archive-get. PostgreSQL's restore_command (the foreground archive-get)
        // writes no log file (pgBackRest logs it only with log-level-file given as an option, which
        // restore leaves out of restore_command), so the evidence is the async process's own log
        // (log-level-file=detail in [global:archive-get]): a "found X in the repo1: ... archive" line
        // for each segment it got into the spool, which must cover every segment PostgreSQL
        // restored; and the segments it queued ahead, still in the spool.
        Path asyncLogFile = pgbrLog.resolve("bench-archive-get-async.log");
        List<String> asyncLines = Files.exists(asyncLogFile) ? Files.readAllLines(asyncLogFile) : List.of();
        Set<String> gotAsync = new LinkedHashSet<>();
        for (String l : asyncLines) {
            Matcher m = FOUND_ASYNC.matcher(l);
            if (m.find()) {
                gotAsync.add(m.group(1));
            }
        }
        long asyncRuns = asyncLines.stream()
                .filter(l -> l.contains("archive-get:async command begin"))
                .count();
        long queued;
        Path in = spool.resolve("archive/bench/in");
        if (Files.isDirectory(in)) {
            try (var files = Files.list(in)) {
                queued = files.filter(f -> f.getFileName().toString().matches("[0-9A-F]{24}"))
                        .count();
            }
        } else {
            queued = 0;
        }
        List<String> restored = log.restoredSegments();
        boolean confirmed = !restored.isEmpty() && gotAsync.containsAll(restored);
        pgbrRuns++;
        if (confirmed) {
            asyncConfirmed++;
        }
        print(String.format(
                Locale.ROOT,
                "      archive-get: the async process (%d run(s)) got %d segments into the spool; PostgreSQL restored"
                        + " %d, %s; %d still queued in the spool after promotion: %s",
                asyncRuns,
                gotAsync.size(),
                restored.size(),
                confirmed ? "all of them among those" : "NOT all among those",
                queued,
                confirmed ? "async confirmed" : "async NOT confirmed"));
        if (!confirmed) {
            try (var files = Files.list(pgbrLog)) {
                for (Path f : files.sorted().toList()) {
                    print("      " + f.getFileName() + ":");
                    if (Files.isRegularFile(f)) {
                        List<String> lines = Files.readAllLines(f);
                        lines.subList(Math.max(0, lines.size() - 6), lines.size())
                                .forEach(l -> print("        " + l));
                    }
                }
            }
        }
        if (showCommand) {
            Files.readAllLines(pgdata.resolve("postgresql.auto.conf")).stream()
                    .filter(l -> l.startsWith("restore_command"))
                    .forEach(l -> print("      postgresql.auto.conf: " + l));
        }
        data.add(sql(runDir, port, CHECK, Duration.ofMinutes(30)));
        if (log.stopLine() != null) {
            stops.add(log.stopLine());
        }
        stopPgbr(pgdata);
        livePgbr.remove(pgdata);
        if (dataset != null) {
            destroy(dataset);
        } else {
            runLong(List.of("rm", "-rf", base.toString()), Duration.ofMinutes(10));
        }
        return new Run(way, round, seconds, log.replaySeconds(), log.replayBytes());
    }

    private void stopPgbr(Path pgdata) {
        if (Files.exists(pgdata.resolve("postmaster.pid"))) {
            runner.run(Command.of(
                            "runuser",
                            "-u",
                            "postgres",
                            "--",
                            BIN.resolve("pg_ctl").toString(),
                            "stop",
                            "-D",
                            pgdata.toString(),
                            "-m",
                            "immediate",
                            "-w")
                    .timeout(Duration.ofMinutes(2)));
        }
    }

    /** Everything a scale made, in reverse order; each step on its own, so one failure does not stop the rest. */
    private synchronized void cleanUp(
            Path config, PostgresCluster standby, PostgresCluster primary, ZfsPool pool, Path root) {
        List<Runnable> steps = new ArrayList<>();
        for (String name : List.copyOf(liveRestores)) {
            steps.add(() -> {
                if (Files.exists(config)) {
                    zpitr(config, Duration.ofMinutes(3), "restore-drop", name);
                }
                liveRestores.remove(name);
            });
        }
        steps.add(() -> runner.run(Command.of("pkill", "-f", config + " wal-(prefetch|fetch )")));
        for (Path pgdata : List.copyOf(livePgbr)) {
            steps.add(() -> {
                stopPgbr(pgdata);
                livePgbr.remove(pgdata);
            });
        }
        if (standby != null) {
            steps.add(standby::close);
        }
        if (primary != null) {
            steps.add(primary::close);
        }
        steps.add(pool::close);
        steps.add(() -> runner.run(Command.of("rm", "-rf", root.toString()).timeout(Duration.ofMinutes(10))));
        for (Runnable step : steps) {
            try {
                step.run();
            } catch (RuntimeException e) {
                System.err.println("rbench cleanup: " + e);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A table row with "-" where a way was not run (its median and ratios NaN). */
    private static String notRun(String row) {
        return row.replace("NaN", "  -");
    }

    private static <T> double median(List<T> xs, java.util.function.ToDoubleFunction<T> f) {
        double[] v = xs.stream()
                .mapToDouble(f)
                .filter(d -> !Double.isNaN(d))
                .sorted()
                .toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Seconds as s, min or h. */
    private static String duration(double seconds) {
        if (Double.isNaN(seconds)) {
            return "?";
        }
        if (seconds < 120) {
            return String.format(Locale.ROOT, "%.0f s", seconds);
        }
        if (seconds < 7200) {
            return String.format(Locale.ROOT, "%.1f min", seconds / 60);
        }
        return String.format(Locale.ROOT, "%.1f h", seconds / 3600);
    }

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
    static final Pattern REDO_STARTS = Pattern.compile("redo starts at ([0-9A-F]+/[0-9A-F]+)");
    static final Pattern REDO_DONE = Pattern.compile("redo done at ([0-9A-F]+/[0-9A-F]+)");
    static final Pattern RESTORED_SEGMENT = Pattern.compile("restored log file \"([0-9A-F]{24})\" from archive");

    /**
     * What a restored server's log ({@code log_line_prefix} '%m', UTC) shows: when it started,
     * when redo started and at which LSN, when recovery stopped at the target, the LSN redo was
     * done at, the 'recovery stopping' line itself, and the WAL segments restore_command
     * delivered. Null and -1 for what the log lacks.
     */
    record ServerLog(
            Instant started,
            Instant redo,
            Instant stop,
            long redoLsn,
            long doneLsn,
            String stopLine,
            List<String> restoredSegments) {
        static ServerLog read(Path log) throws IOException {
            List<String> lines = Files.readAllLines(log);
            String stopLine = lines.stream()
                    .filter(l -> l.contains("recovery stopping"))
                    .findFirst()
                    .map(l -> l.replaceFirst("^.*?LOG:\\s*", ""))
                    .orElse(null);
            return new ServerLog(
                    logTime(lines, "starting PostgreSQL"),
                    logTime(lines, "redo starts at"),
                    logTime(lines, "recovery stopping"),
                    lsn(lines, REDO_STARTS),
                    lsn(lines, REDO_DONE),
                    stopLine,
                    lines.stream()
                            .map(RESTORED_SEGMENT::matcher)
                            .filter(Matcher::find)
                            .map(m -> m.group(1))
                            .toList());
        }

        /** Seconds from 'redo starts' to 'recovery stopping'; NaN when either is missing. */
        double replaySeconds() {
            return redo == null || stop == null ? Double.NaN : secs(redo, stop);
        }

        /** WAL bytes from the redo start to where redo was done; -1 when either is missing. */
        long replayBytes() {
            return redoLsn < 0 || doneLsn < 0 ? -1 : doneLsn - redoLsn;
        }

        /**
         * Where a restore's time went: before the server started, its start-up until redo
         * starts, replay to the target (with the WAL it covered and its speed), and from the
         * target until the promoted server answered.
         */
        String breakdown(Instant start, Instant end) {
            if (started == null || redo == null || stop == null) {
                return "(log lacks start, redo or stop lines)";
            }
            return String.format(
                    Locale.ROOT,
                    "before server start %.1f s, start-up to redo %.1f s, replay to T %.1f s (%s of WAL, %.1f MB/s),"
                            + " T to promoted and answering %.1f s",
                    secs(start, started),
                    secs(started, redo),
                    replaySeconds(),
                    replayBytes() < 0 ? "?" : mb(replayBytes()),
                    replayBytes() / 1e6 / replaySeconds(),
                    secs(stop, end));
        }
    }

    private static long lsn(List<String> lines, Pattern p) {
        for (String l : lines) {
            Matcher m = p.matcher(l);
            if (m.find()) {
                String[] hl = m.group(1).split("/");
                return (Long.parseLong(hl[0], 16) << 32) | Long.parseLong(hl[1], 16);
            }
        }
        return -1;
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
