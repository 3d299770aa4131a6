// Benchmark, not a test (the name matches neither *Test nor *IT, so CI never runs it): bench/wal-fetch.sh.
package io.zpitr.appliance.wal;

import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.SshServer;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Replays the same archived WAL from one base backup three ways and compares the wall time from
 * {@code pg_ctl -w start} to "accepting connections" (recovery done, promoted):
 * <ol>
 *   <li>{@code cp} from a local archive folder (the floor);</li>
 *   <li>the runbook's chain of two system {@code scp} calls over two SSH hosts;</li>
 *   <li>{@code bin/zpitr wal-fetch} over the same two hosts, with its prefetch spool.</li>
 * </ol>
 * WAL comes from pgbench on a PostgreSQL 15 primary (a {@link WalLab} whose archive_command also
 * copies every segment to both hosts' {@code arch/20261121/}). Every run starts from a fresh copy of
 * the one base backup and must end with the primary's row count and balance sum, so a fast but
 * wrong run cannot win. Rounds alternate the order of the ways. System properties:
 * {@code bench.rounds} (default 4: each order twice), {@code bench.segments} (minimum segments to replay, default 25),
 * {@code bench.scale} (pgbench scale, default 10).
 */
class WalFetchBench {
    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final Path RESULTS =
            Path.of("..", "bench", "results").toAbsolutePath().normalize();
    static final String DATED = "20261121";
    static final String CHECK_SQL = "select (select count(*) from pgbench_history) || ' rows, balance sum '"
            + " || (select coalesce(sum(abalance), 0) from pgbench_accounts)";
    static final Duration RUN_LIMIT = Duration.ofMinutes(4);
    static final String READY = "database system is ready to accept connections";
    static final Pattern RESTORED_SEGMENT = Pattern.compile("restored log file \"([0-9A-F]{24})\" from archive");
    static final Pattern LOG_LINE =
            Pattern.compile("^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}) \\S+ \\[\\d+\\] (.*)$");

    enum Way {
        CP("cp"),
        SCP("scp chain"),
        ZPITR("zpitr"),
        ZPITR_WARM("zpitr warm"),
        ZPITR_SPOOLED("zpitr spooled");

        final String label;

        Way(String label) {
            this.label = label;
        }
    }

    /** One replay: wall time, what the server log and the launcher's trace say about it. */
    record Run(
            Way way,
            int round,
            double seconds,
            boolean correct,
            String detail,
            int restored,
            double toFirstSegment,
            double segmentSpan,
            double lastSegmentToReady,
            double medianStep,
            Trace trace,
            String load,
            double cpuBusy,
            double hostCpu) {
        Run withHostCpu(double seconds) {
            return new Run(
                    way,
                    round,
                    this.seconds,
                    correct,
                    detail,
                    restored,
                    toFirstSegment,
                    segmentSpan,
                    lastSegmentToReady,
                    medianStep,
                    trace,
                    load,
                    cpuBusy,
                    seconds);
        }
    }

    final ProcessRunner runner = new ProcessRunner();
    final StringBuilder report = new StringBuilder();

    @Test
    void replayTheSameWalThreeWays() throws Exception {
        int rounds = Integer.getInteger("bench.rounds", 4);
        int minSegments = Integer.getInteger("bench.segments", 25);
        int scale = Integer.getInteger("bench.scale", 10);
        long benchStart = System.nanoTime();
        List<Run> runs = new ArrayList<>();
        List<Path> ours = new ArrayList<>();
        try (SshServer hostA = SshServer.builder().build().start();
                SshServer hostB = SshServer.builder().build().start();
                WalLab lab = new WalLab(List.of(
                        hostA.dataDir().resolve("arch/" + DATED),
                        hostB.dataDir().resolve("arch/" + DATED)))) {
            ours.addAll(List.of(
                    lab.root(),
                    hostA.hostKeyFile().getParent(),
                    hostB.hostKeyFile().getParent()));
            try {
                PostgresCluster primary = lab.primary();
                say("zpitr WAL fetch benchmark, "
                        + ZonedDateTime.now(ZoneOffset.UTC)
                                .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME)
                                .substring(0, 19)
                        + " UTC, " + Runtime.getRuntime().availableProcessors() + " CPUs, load "
                        + loadAverage() + ", "
                        + primary.psql("select version()").replaceAll(" on .*", ""));

                // 1. The primary: pgbench tables, then the one base backup.
                long t = System.nanoTime();
                pgbench(primary, Duration.ofMinutes(5), "-i", "-s", Integer.toString(scale), "-q");
                Path base = lab.root().resolve("base");
                runner.run(Command.of(primary.asPostgres(
                                        "pg_basebackup",
                                        "-h",
                                        primary.socketDir().toString(),
                                        "-p",
                                        Integer.toString(primary.port()),
                                        "-U",
                                        "postgres",
                                        "-D",
                                        base.toString(),
                                        "-X",
                                        "none",
                                        "-c",
                                        "fast"))
                                .timeout(Duration.ofMinutes(3)))
                        .requireSuccess();
                Matcher m = Pattern.compile("\\(file ([0-9A-F]{24})\\)")
                        .matcher(Files.readString(base.resolve("backup_label")));
                if (!m.find()) {
                    throw new IllegalStateException("no start segment in " + base.resolve("backup_label"));
                }
                WalFileName first = WalFileName.of(m.group(1));
                // Autovacuum would add WAL of its own at any time; the archive must be the same for every run.
                primary.psql("alter system set autovacuum = off");
                primary.psql("select pg_reload_conf()");

                // 2. WAL after the base backup: pgbench until enough segments exist, then the primary stops,
                // so the archive cannot grow while the runs replay it.
                int pgbenchRuns = 0;
                while (segmentsFrom(
                                first,
                                WalFileName.of(primary.psql("select pg_walfile_name(pg_current_wal_insert_lsn())")))
                        < minSegments) {
                    pgbench(primary, Duration.ofMinutes(2), "-n", "-c", "2", "-j", "2", "-T", "5");
                    primary.psql("checkpoint"); // the next updates log full pages again: WAL comes faster
                    pgbenchRuns++;
                }
                String expected = primary.psql(CHECK_SQL);
                lab.switchAndWait();
                primary.stop();
                WalFileName last = newestSegment(lab.archive());
                int segments = segmentsFrom(first, last);
                for (int i = 0; i < segments; i++) {
                    String name = WalSegments.offset(first, i, WalSegments.DEFAULT_SIZE)
                            .name();
                    for (Path dir : List.of(
                            lab.archive(),
                            hostA.dataDir().resolve("arch/" + DATED),
                            hostB.dataDir().resolve("arch/" + DATED))) {
                        if (Files.size(dir.resolve(name)) != WalSegments.DEFAULT_SIZE) {
                            throw new IllegalStateException(dir.resolve(name) + " is not a full segment");
                        }
                    }
                }
                int archived = segments;
                say(String.format(
                        Locale.ROOT,
                        "WAL: %s .. %s = %d segments of 16 MiB (%d MiB) archived after the base backup, "
                                + "on the local archive and on both hosts; pgbench -i -s %d, then %d x pgbench -n -c 2 -j 2 -T 5 "
                                + "(synchronous_commit=off, checkpoint after each; autovacuum off after the base backup; primary stopped before the runs); base backup %d MiB; expected: %s; setup %.0f s",
                        first,
                        last,
                        archived,
                        archived * 16,
                        scale,
                        pgbenchRuns,
                        du(base) >> 20,
                        expected,
                        secondsSince(t)));

                say(copyCosts(lab.archive().resolve(first.name()), lab.root()));

                // 3. The two hosts, as postgres reaches them: its own copy of each key, one known_hosts.
                Path keys = lab.root().resolve("keys");
                Files.createDirectories(keys);
                Path keyA = hostA.copyIdentityFor("postgres", keys.resolve("hostA"));
                Path keyB = hostB.copyIdentityFor("postgres", keys.resolve("hostB"));
                Path knownHosts = keys.resolve("known_hosts");
                Files.writeString(
                        knownHosts,
                        Files.readString(hostA.knownHostsFile()) + Files.readString(hostB.knownHostsFile()));
                chownTree(keys);
                String scpChain = scp(hostA, keyA, knownHosts) + " || " + scp(hostB, keyB, knownHosts);
                checkScpChain(scpChain, first, lab.root());

                say("file systems: " + fileSystem("data dirs and spool", lab.root()) + "; "
                        + fileSystem("local archive", lab.archive()) + "; "
                        + fileSystem("host archives", hostA.dataDir()) + " (zfs-fuse not used; page cache not dropped: "
                        + "every archive copy is in RAM for every way)");
                say("restore_command (a) cp:        cp " + lab.archive() + "/%f %p");
                say("restore_command (b) scp chain: " + scpChain);
                say(
                        "restore_command (c) zpitr:     ZPITR_TRACE_FILE=<run>/trace " + LAUNCHER
                                + " --config <run>/zpitr.yaml wal-fetch %f %p   (prefetch: 8, spool in <run>/state/spool, fresh per run)");
                say(
                        "each run: cp -a of the base backup, recovery.signal, hot_standby=off, recovery_target_timeline=current, "
                                + "archive_mode=off; time = from PostgresCluster.start() (pg_ctl -w start) until the server log says "
                                + "\"" + READY + "\" (polled every 10 ms), i.e. recovery done and promoted");
                say(warmUp(lab, first, hostA, hostB, keyA, keyB, knownHosts));
                say("");

                // 4. The runs, alternating the order.
                int n = 0;
                for (int round = 1; round <= rounds; round++) {
                    List<Way> order = round % 2 == 1
                            ? List.of(Way.CP, Way.SCP, Way.ZPITR, Way.ZPITR_WARM, Way.ZPITR_SPOOLED)
                            : List.of(Way.ZPITR_SPOOLED, Way.ZPITR_WARM, Way.ZPITR, Way.SCP, Way.CP);
                    for (Way way : order) {
                        n++;
                        String restoreCommand = switch (way) {
                            case CP -> "cp " + lab.archive() + "/%f %p";
                            case SCP -> scpChain;
                            case ZPITR, ZPITR_WARM, ZPITR_SPOOLED -> null;
                        };
                        double hostCpu0 = hostCpuSeconds(hostA, hostB);
                        Run run = replay(
                                way,
                                round,
                                n,
                                base,
                                restoreCommand,
                                lab,
                                hostA,
                                hostB,
                                keyA,
                                keyB,
                                knownHosts,
                                expected,
                                first,
                                segments);
                        run = run.withHostCpu(hostCpuSeconds(hostA, hostB) - hostCpu0);
                        runs.add(run);
                        say(describe(run));
                    }
                }
                summarize(runs, segments);
                say(String.format(
                        Locale.ROOT,
                        "total benchmark time %.0f s, load at the end %s",
                        secondsSince(benchStart),
                        loadAverage()));
            } finally {
                removeLauncherLinks(lab.root());
            }
        } finally {
            say("leftover processes of this benchmark (postgres, sshd, wal-prefetch): " + leftovers(ours));
            writeReport();
        }
        List<Run> wrong = runs.stream().filter(r -> !r.correct()).toList();
        if (!wrong.isEmpty()) {
            throw new AssertionError(wrong.size() + " run(s) replayed the wrong data: " + wrong);
        }
    }

    /** One replay from a fresh copy of the base backup; the data dir is removed afterwards. */
    private Run replay(
            Way way,
            int round,
            int n,
            Path base,
            String restoreCommand,
            WalLab lab,
            SshServer hostA,
            SshServer hostB,
            Path keyA,
            Path keyB,
            Path knownHosts,
            String expected,
            WalFileName first,
            int segments)
            throws IOException {
        Path data = lab.root().resolve("run" + n + "-" + way.name().toLowerCase(Locale.ROOT));
        Path home = lab.root().resolve("zpitr-run" + n);
        Path config = home.resolve("zpitr.yaml");
        Path traceFile = home.resolve("trace");
        runner.run(Command.of("cp", "-a", base.toString(), data.toString())).requireSuccess();
        Files.createFile(data.resolve("recovery.signal"));
        boolean zpitr = way == Way.ZPITR || way == Way.ZPITR_WARM || way == Way.ZPITR_SPOOLED;
        if (zpitr) {
            Files.createDirectories(home);
            Files.writeString(
                    config,
                    "state_dir: " + home.resolve("state") + "\n"
                            + "archive:\n  connect_timeout: 1s\n  down_for: 60s\n  prefetch: "
                            + (way == Way.ZPITR_SPOOLED ? spooledDepth(segments) : 8)
                            + "\n  sources:\n" + source("hostA", hostA, keyA, knownHosts)
                            + source("hostB", hostB, keyB, knownHosts));
            chownTree(home);
            restoreCommand = System.getProperty("bench.env", "") + " ZPITR_TRACE_FILE=" + traceFile + " " + LAUNCHER
                    + " --config " + config + " wal-fetch %f %p";
            if (way == Way.ZPITR_WARM || way == Way.ZPITR_SPOOLED) {
                Path spool = home.resolve("state/spool");
                warmPrefetcher(config, spool, first, way == Way.ZPITR_SPOOLED ? segments : 8);
                restoreCommand = "ZPITR_SPOOL_DIR=" + spool + " " + restoreCommand;
            }
        }
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("restore_command", restoreCommand);
        settings.put("hot_standby", "off");
        settings.put("recovery_target_timeline", "current");
        settings.put("archive_mode", "off");
        settings.put("log_line_prefix", "%m [%p] ");
        runner.run(Command.of("sync")).requireSuccess(); // no dirty pages of the copy or the last run left to flush
        PostgresCluster pg = PostgresCluster.builder()
                .dataDir(data)
                .initdb(false)
                .settings(settings)
                .build();
        try {
            double seconds;
            String load = loadAverage().split(" ")[0];
            long busy0 = busyJiffies();
            long t0 = System.nanoTime();
            try {
                // With hot_standby = off, pg_ctl -w returns as soon as archive recovery has begun: the
                // postmaster reports "standby" to pg_ctl then. The clock runs on until the server log
                // says it accepts connections, which it does only after recovery and promotion.
                pg.start();
                waitUntilReady(pg.logFile(), RUN_LIMIT);
                seconds = secondsSince(t0);
                busy0 = busyJiffies() - busy0;
            } catch (RuntimeException e) {
                return new Run(
                        way,
                        round,
                        secondsSince(t0),
                        false,
                        "did not start: " + e.getMessage().lines().findFirst().orElse(""),
                        0,
                        0,
                        0,
                        0,
                        0,
                        Trace.NONE,
                        load,
                        0,
                        0);
            }
            String got = pg.psql(CHECK_SQL);
            String recovering = pg.psql("select pg_is_in_recovery()");
            List<String> log = Files.readAllLines(pg.logFile());
            // PostgreSQL restores the last segment twice (once more at the end of recovery, to start the
            // new timeline): count distinct names.
            int restored = (int) log.stream()
                    .map(RESTORED_SEGMENT::matcher)
                    .filter(Matcher::find)
                    .map(mm -> mm.group(1))
                    .distinct()
                    .count();
            boolean correct = expected.equals(got) && "f".equals(recovering) && restored == segments;
            String detail =
                    correct ? "data ok" : "WRONG: " + got + ", in recovery " + recovering + ", restored " + restored;
            double[] phases = phases(log);
            Trace trace = zpitr ? Trace.read(traceFile) : Trace.NONE;
            keepLogs(n, way, pg.logFile(), traceFile);
            return new Run(
                    way,
                    round,
                    seconds,
                    correct,
                    detail,
                    restored,
                    phases[0],
                    phases[1],
                    phases[2],
                    phases[3],
                    trace,
                    load,
                    busy0 / 100.0,
                    0);
        } finally {
            pg.close();
            if (zpitr) {
                stopPrefetcher(config);
                keepPrefetchLog(n, way, home.resolve("state/spool/prefetch.log"));
            }
            runner.run(Command.of("rm", "-rf", data.toString(), home.toString()))
                    .requireSuccess();
        }
    }

    /**
     * "zpitr warm": a prefetcher that is running, compiled and connected, with the next
     * {@code ready} segments spooled, before the clock starts -- a restore whose prefetcher (started
     * before PostgreSQL, from the snapshot's redo segment) is ahead. "zpitr spooled" (prefetch 64, or
     * as many as there are segments up to the config's limit of 256):
     * every segment spooled before the clock starts -- a standby whose prefetcher pulled WAL as it
     * reached the archive; replay then costs only the launcher's hits. Started as zpitr restore
     * starts it (PrefetcherProcess: its own JVM with full JIT, as postgres); untimed.
     */
    private static int spooledDepth(int segments) {
        return Math.min(256, Math.max(64, segments));
    }

    private void warmPrefetcher(Path config, Path spool, WalFileName first, int ready) throws IOException {
        Files.createDirectories(spool);
        Files.writeString(
                spool.resolve(".requested"),
                WalSegments.offset(first, -1, WalSegments.DEFAULT_SIZE).name() + "\n");
        chownTree(spool.getParent());
        Path jar = LAUNCHER.getParent().getParent().resolve("appliance/target/zpitr.jar");
        runner.startDetached(
                Command.of(
                        "runuser",
                        "-u",
                        "postgres",
                        "--",
                        "setsid",
                        "java",
                        "-XX:+UseSerialGC",
                        "-Xmx256m",
                        "-cp",
                        jar.toString(),
                        "io.zpitr.appliance.cli.Main",
                        "--config",
                        config.toString(),
                        "wal-prefetch"),
                spool.getParent().resolve("prefetch-start.log"));
        long deadline =
                System.nanoTime() + Duration.ofMinutes(1).plusSeconds(ready).toNanos();
        for (int i = 0; i < ready; i++) {
            Path segment = spool.resolve(
                    WalSegments.offset(first, i, WalSegments.DEFAULT_SIZE).name());
            while (!Files.exists(segment)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the warm prefetcher did not spool " + segment + " in time");
                }
                pause(20);
            }
        }
    }

    /**
     * Polls the server log (reading only what was appended) every 10 ms until the postmaster
     * says it accepts connections; the caller's clock stops when this returns.
     */
    private static void waitUntilReady(Path logFile, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        long offset = 0;
        StringBuilder pending = new StringBuilder();
        while (true) {
            try (var channel = java.nio.channels.FileChannel.open(logFile)) {
                long size = channel.size();
                if (size > offset) {
                    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) (size - offset));
                    while (buffer.hasRemaining() && channel.read(buffer, offset + buffer.position()) > 0) {
                        // read what is there
                    }
                    offset += buffer.position();
                    pending.append(
                            new String(buffer.array(), 0, buffer.position(), java.nio.charset.StandardCharsets.UTF_8));
                    if (pending.indexOf(READY) >= 0) {
                        return;
                    }
                    if (pending.indexOf("database system is shut down") >= 0
                            || pending.indexOf("aborting startup due to startup process failure") >= 0) {
                        throw new IllegalStateException("recovery failed; see " + logFile);
                    }
                    int cut = pending.lastIndexOf("\n");
                    if (cut > 0) {
                        pending.delete(0, cut); // keep a partial last line only
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not ready within " + limit + "; see " + logFile);
            }
            pause(10);
        }
    }

    /**
     * From the server log: start to first restored segment, first to last restored segment, last
     * restored segment to ready (the end of the archive, the timeline history lookup, the
     * end-of-recovery checkpoint).
     */
    private static double[] phases(List<String> log) {
        LocalDateTime start = null;
        LocalDateTime lastSeg = null;
        LocalDateTime ready = null;
        Map<String, LocalDateTime> firstRestore = new LinkedHashMap<>();
        DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
        for (String line : log) {
            Matcher m = LOG_LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            LocalDateTime at = LocalDateTime.parse(m.group(1), f);
            if (start == null) {
                start = at;
            }
            Matcher restored = RESTORED_SEGMENT.matcher(m.group(2));
            if (restored.find()) {
                firstRestore.putIfAbsent(restored.group(1), at);
                lastSeg = at;
            }
            if (m.group(2).contains(READY)) {
                ready = at;
            }
        }
        if (start == null || firstRestore.isEmpty() || ready == null) {
            return new double[] {0, 0, 0, 0};
        }
        List<LocalDateTime> times = new ArrayList<>(firstRestore.values());
        List<Double> steps = new ArrayList<>();
        for (int i = 1; i < times.size(); i++) {
            steps.add(between(times.get(i - 1), times.get(i)));
        }
        return new double[] {
            between(start, times.get(0)),
            between(times.get(0), lastSeg),
            between(lastSeg, ready),
            median(steps.stream().sorted().toList())
        };
    }

    /** With -Dbench.logs=DIR: keeps each run's server log (and the launcher's trace) there. */
    private void keepLogs(int n, Way way, Path serverLog, Path traceFile) throws IOException {
        String dir = System.getProperty("bench.logs");
        if (dir == null || dir.isBlank()) {
            return;
        }
        Path target = Path.of(dir);
        Files.createDirectories(target);
        String stem = "run" + n + "-" + way.name().toLowerCase(Locale.ROOT);
        Files.copy(serverLog, target.resolve(stem + ".log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        if (Files.exists(traceFile)) {
            Files.copy(traceFile, target.resolve(stem + ".trace"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** With -Dbench.logs=DIR: the prefetcher's log too (its last line sums up its segments and CPU). */
    private void keepPrefetchLog(int n, Way way, Path log) throws IOException {
        String dir = System.getProperty("bench.logs");
        if (dir != null && !dir.isBlank() && Files.exists(log)) {
            Files.copy(
                    log,
                    Path.of(dir).resolve("run" + n + "-" + way.name().toLowerCase(Locale.ROOT) + ".prefetch.log"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static double between(LocalDateTime a, LocalDateTime b) {
        return Duration.between(a, b).toMillis() / 1000.0;
    }

    /** The launcher's trace (ZPITR_TRACE_FILE): how many calls each path served and how long they took. */
    record Trace(
            int fastCalls,
            double fastSeconds,
            double fastMaxSeconds,
            int jvmCalls,
            double jvmSeconds,
            List<String> jvmCallList,
            int missCalls,
            int waits) {
        static final Trace NONE = new Trace(0, 0, 0, 0, 0, List.of(), 0, 0);

        static Trace read(Path traceFile) throws IOException {
            if (!Files.exists(traceFile)) {
                return NONE;
            }
            int fast = 0;
            long fastMicros = 0;
            long fastMax = 0;
            int jvm = 0;
            long jvmMicros = 0;
            int misses = 0;
            int waits = 0;
            List<String> calls = new ArrayList<>();
            for (String line : Files.readAllLines(traceFile)) {
                String[] p = line.split(" ");
                if (p.length < 3) {
                    continue;
                }
                long us = Long.parseLong(p[2]);
                waits += p[0].equals("wait") ? 1 : 0; // a hit that waited for the prefetcher's copy in flight
                if (p[0].equals("fast") || p[0].equals("miss")) { // miss: "not found" from a fresh missing mark
                    misses += p[0].equals("miss") ? 1 : 0;
                    fast++;
                    fastMicros += us;
                    fastMax = Math.max(fastMax, us);
                } else if (p[0].equals("jvm")) {
                    jvm++;
                    jvmMicros += us;
                    calls.add(shortName(p[1]) + " " + us / 1000 + " ms exit " + (p.length > 3 ? p[3] : "?"));
                }
            }
            return new Trace(fast, fastMicros / 1e6, fastMax / 1e6, jvm, jvmMicros / 1e6, calls, misses, waits);
        }

        boolean present() {
            return fastCalls + jvmCalls > 0;
        }

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "fast path %d calls (%d of them \"missing\" from a mark, %d waited for a copy in flight), %.2f s in all "
                            + "(mean %.1f ms, max %.0f ms); JVM path %d calls, %.2f s in all: %s",
                    fastCalls,
                    missCalls,
                    waits,
                    fastSeconds,
                    fastCalls == 0 ? 0 : fastSeconds * 1000 / fastCalls,
                    fastMaxSeconds * 1000,
                    jvmCalls,
                    jvmSeconds,
                    String.join(", ", jvmCallList));
        }
    }

    private static String shortName(String walFile) {
        return walFile.matches("[0-9A-F]{24}") ? "…" + walFile.substring(16) : walFile;
    }

    /**
     * CPU time the whole machine spent busy (all processes: PostgreSQL, the launcher, the JVMs, and
     * the archive hosts' sshd, which share this machine's cores), in jiffies of 10 ms.
     */
    private static long busyJiffies() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7}) { // user nice system irq softirq (not idle, iowait, steal, guest)
                busy += Long.parseLong(f[i]);
            }
            return busy;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * CPU time the archive hosts spent serving (their sshd listeners' finished children: every
     * session of a run has ended when the run's prefetcher is stopped), from /proc/PID/stat.
     */
    private double hostCpuSeconds(SshServer... hosts) {
        pause(200); // sessions just closed: let sshd reap them
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

    private static String describe(Run r) {
        return String.format(
                Locale.ROOT,
                "round %d  %-13s %6.2f s  %s, %d segments, load %s; server log: start->1st segment %.2f s, "
                        + "1st->last %.2f s (median step %.0f ms), last->ready %.2f s; machine CPU busy %.2f s (%.0f%% of %d cores), "
                        + "of which the archive hosts' sshd %.2f s%s",
                r.round(),
                r.way().label,
                r.seconds(),
                r.detail(),
                r.restored(),
                r.load(),
                r.toFirstSegment(),
                r.segmentSpan(),
                r.medianStep() * 1000,
                r.lastSegmentToReady(),
                r.cpuBusy(),
                100 * r.cpuBusy() / (r.seconds() * Runtime.getRuntime().availableProcessors()),
                Runtime.getRuntime().availableProcessors(),
                r.hostCpu(),
                r.trace().present() ? "\n          launcher trace: " + r.trace() : "");
    }

    private void summarize(List<Run> runs, int segments) {
        say("");
        Map<Way, Double> medians = new LinkedHashMap<>();
        for (Way way : Way.values()) {
            List<Run> ofWay = runs.stream().filter(r -> r.way() == way).toList();
            List<Double> times = ofWay.stream().map(Run::seconds).sorted().toList();
            double median = median(times);
            medians.put(way, median);
            say(String.format(
                    Locale.ROOT,
                    "%-13s runs %s  median %6.2f s  (%.0f ms per segment; medians from the server log: "
                            + "start->1st segment %.2f s, step %.0f ms, last->ready %.2f s; machine CPU busy %.2f s, "
                            + "archive hosts' sshd %.2f s)",
                    way.label,
                    times.stream()
                            .map(s -> String.format(Locale.ROOT, "%.2f", s))
                            .toList(),
                    median,
                    median * 1000 / segments,
                    medianOf(ofWay, Run::toFirstSegment),
                    medianOf(ofWay, Run::medianStep) * 1000,
                    medianOf(ofWay, Run::lastSegmentToReady),
                    medianOf(ofWay, Run::cpuBusy),
                    medianOf(ofWay, Run::hostCpu)));
        }
        say(String.format(
                Locale.ROOT, "zpitr/cp  = %.2f   (goal <= 1.10)", medians.get(Way.ZPITR) / medians.get(Way.CP)));
        say(String.format(Locale.ROOT, "zpitr/scp = %.2f", medians.get(Way.ZPITR) / medians.get(Way.SCP)));
        say(String.format(
                Locale.ROOT,
                "zpitr warm/cp = %.2f   (the prefetcher running, 8 segments ahead, when replay starts)",
                medians.get(Way.ZPITR_WARM) / medians.get(Way.CP)));
        say(String.format(
                Locale.ROOT,
                "zpitr spooled/cp = %.2f   (every segment spooled when replay starts: the launcher's hits alone)",
                medians.get(Way.ZPITR_SPOOLED) / medians.get(Way.CP)));
        say(String.format(Locale.ROOT, "scp/cp    = %.2f", medians.get(Way.SCP) / medians.get(Way.CP)));
        List<Run> zpitr = runs.stream()
                .filter(r -> r.way() == Way.ZPITR && r.trace().present())
                .toList();
        for (Way way : List.of(Way.ZPITR_WARM, Way.ZPITR_SPOOLED)) {
            List<Run> ofWay = runs.stream()
                    .filter(r -> r.way() == way && r.trace().present())
                    .toList();
            if (!ofWay.isEmpty()) {
                say(String.format(
                        Locale.ROOT,
                        "%s (medians): %.1f JVM calls, %.1f fast-path calls taking %.2f s in all",
                        way.label,
                        medianOf(ofWay, r -> r.trace().jvmCalls()),
                        medianOf(ofWay, r -> r.trace().fastCalls()),
                        medianOf(ofWay, r -> r.trace().fastSeconds())));
            }
        }
        if (!zpitr.isEmpty()) {
            say(String.format(
                    Locale.ROOT,
                    "where zpitr's time goes (medians over its runs): %.1f JVM calls taking %.2f s in all, "
                            + "%.1f fast-path calls taking %.2f s in all; "
                            + "zpitr - cp = %.2f s",
                    medianOf(zpitr, r -> r.trace().jvmCalls()),
                    medianOf(zpitr, r -> r.trace().jvmSeconds()),
                    medianOf(zpitr, r -> r.trace().fastCalls()),
                    medianOf(zpitr, r -> r.trace().fastSeconds()),
                    medians.get(Way.ZPITR) - medians.get(Way.CP)));
        }
    }

    private static double medianOf(List<Run> runs, java.util.function.ToDoubleFunction<Run> value) {
        return median(runs.stream().map(r -> value.applyAsDouble(r)).sorted().toList());
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    // --- helpers --------------------------------------------------------------------------------

    /** pgbench as postgres against the primary; PGOPTIONS turns synchronous_commit off for its sessions only. */
    private void pgbench(PostgresCluster primary, Duration limit, String... args) {
        List<String> argv = new ArrayList<>(List.of(
                "-h", primary.socketDir().toString(), "-p", Integer.toString(primary.port()), "-U", "postgres"));
        argv.addAll(List.of(args));
        argv.add("postgres");
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeIf(k -> k.startsWith("PG"));
        env.put("PGOPTIONS", "-c synchronous_commit=off");
        runner.run(Command.of(primary.asPostgres("pgbench", argv.toArray(String[]::new)))
                        .timeout(limit)
                        .environment(env))
                .requireSuccess();
    }

    /**
     * What one segment costs to copy on this disk, idle, in one bash process (no JVM spawn in the
     * figure): plain cp (restore_command (a)) and cp + sync + mv (what the launcher's fast path does).
     */
    private String copyCosts(Path segment, Path scratch) {
        String script =
                "s=" + segment + "; d=" + scratch + "/copy-probe; cat \"$s\" >/dev/null; for m in cp full; do r=(); "
                        + "for i in 1 2 3 4 5; do t=${EPOCHREALTIME//[!0-9]/}; if [[ $m == cp ]]; then cp \"$s\" \"$d\"; "
                        + "else cp \"$s\" \"$d.tmp\" && sync \"$d.tmp\" && mv -f \"$d.tmp\" \"$d\"; fi; "
                        + "r+=($(( (${EPOCHREALTIME//[!0-9]/} - t) / 100 ))); rm -f \"$d\"; done; "
                        + "printf '%s ' $(printf '%s\\n' \"${r[@]}\" | sort -n | sed -n 3p); done";
        String out = runner.run(Command.of("bash", "-c", script))
                .requireSuccess()
                .stdout()
                .strip();
        String[] tenths = out.split("\\s+");
        return String.format(
                Locale.ROOT,
                "one 16 MiB segment, idle machine, median of 5: cp %.1f ms; cp + sync + mv "
                        + "(the launcher's fast path) %.1f ms",
                Integer.parseInt(tenths[0]) / 10.0,
                Integer.parseInt(tenths[1]) / 10.0);
    }

    /** The newest segment (timeline 1) in an archive folder. */
    private static WalFileName newestSegment(Path archive) throws IOException {
        try (var files = Files.list(archive)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.matches("00000001[0-9A-F]{16}"))
                    .sorted()
                    .reduce((a, b) -> b)
                    .map(WalFileName::of)
                    .orElseThrow(() -> new IllegalStateException("no segment in " + archive));
        }
    }

    private static int segmentsFrom(WalFileName first, WalFileName last) {
        return (int) (WalSegments.segmentNumber(last, WalSegments.DEFAULT_SIZE)
                - WalSegments.segmentNumber(first, WalSegments.DEFAULT_SIZE)
                + 1);
    }

    /** One scp of the runbook: system scp (SFTP protocol, OpenSSH 9's default), BatchMode, the host's key and known_hosts. */
    private static String scp(SshServer host, Path key, Path knownHosts) {
        return "scp -F /dev/null -i " + key + " -o IdentitiesOnly=yes -o UserKnownHostsFile=" + knownHosts
                + " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10"
                + " -o Port=" + host.port() + " '" + host.user() + "@" + host.address() + ":"
                + host.dataDir().resolve("arch") + "/*/%f' %p";
    }

    /** Runs the scp chain once by hand as postgres, so a broken chain fails here and not as a slow recovery. */
    private void checkScpChain(String chain, WalFileName first, Path root) throws IOException {
        Path probe = root.resolve("scp-probe");
        String command = chain.replace("%f", first.name()).replace("%p", probe.toString());
        ProcessResult r = runner.run(Command.of("runuser", "-u", "postgres", "--", "sh", "-c", command)
                .timeout(Duration.ofSeconds(60)));
        if (!r.succeeded() || Files.size(probe) != WalSegments.DEFAULT_SIZE) {
            throw new IllegalStateException("the scp chain does not work: " + r.stderr());
        }
        Files.delete(probe);
    }

    private static String source(String name, SshServer h, Path identity, Path knownHosts) {
        return "    - {name: " + name + ", type: ssh, host: " + h.address() + ", port: " + h.port() + ", user: "
                + h.user()
                + ", path: " + h.dataDir().resolve("arch") + ", identity_file: " + identity
                + ", known_hosts: " + knownHosts + "}\n";
    }

    /**
     * One untimed wal-fetch as postgres (prefetch off) before the runs: the first wal-fetch after
     * a build writes the launcher's class data sharing archive, once per installation, and no run
     * should pay for that.
     */
    private String warmUp(
            WalLab lab, WalFileName first, SshServer hostA, SshServer hostB, Path keyA, Path keyB, Path knownHosts)
            throws IOException {
        Path home = lab.root().resolve("zpitr-warm-up");
        Files.createDirectories(home);
        Path config = home.resolve("zpitr.yaml");
        Files.writeString(
                config,
                "state_dir: " + home.resolve("state") + "\n"
                        + "archive:\n  connect_timeout: 1s\n  prefetch: 0\n  sources:\n"
                        + source("hostA", hostA, keyA, knownHosts) + source("hostB", hostB, keyB, knownHosts));
        chownTree(home);
        long t = System.nanoTime();
        ProcessResult r = runner.run(Command.of(
                        "runuser",
                        "-u",
                        "postgres",
                        "--",
                        LAUNCHER.toString(),
                        "--config",
                        config.toString(),
                        "wal-fetch",
                        first.name(),
                        home.resolve("segment").toString())
                .timeout(Duration.ofMinutes(2)));
        double seconds = secondsSince(t);
        runner.run(Command.of("rm", "-rf", home.toString())).requireSuccess();
        return String.format(
                Locale.ROOT,
                "warm-up (untimed): one wal-fetch of %s as postgres with prefetch off, exit %d in %.2f s "
                        + "(writes the launcher's class data sharing archive when the jar is new)",
                first,
                r.exitCode(),
                seconds);
    }

    /** Kills this run's prefetcher (started by wal-fetch with setsid) and waits until it is gone. */
    private void stopPrefetcher(Path config) {
        String pattern = config + " wal-(prefetch|fetch )";
        runner.run(Command.of("pkill", "-f", pattern));
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (runner.run(Command.of("pgrep", "-f", pattern)).succeeded()) {
            if (System.nanoTime() > deadline) {
                runner.run(Command.of("pkill", "-KILL", "-f", pattern));
                break;
            }
            pause(100);
        }
    }

    /** Removes the launcher's spool links this benchmark's configurations published for postgres. */
    private void removeLauncherLinks(Path root) {
        String uid = runner.run(Command.of("id", "-u", "postgres"))
                .requireSuccess()
                .stdout()
                .strip();
        Path folder = Path.of("/tmp", "zpitr-" + uid);
        String prefix = "spool" + root.toString().replace('/', '%') + "%";
        if (!Files.isDirectory(folder)) {
            return;
        }
        try (DirectoryStream<Path> links = Files.newDirectoryStream(folder)) {
            for (Path link : links) {
                if (link.getFileName().toString().startsWith(prefix)) {
                    Files.deleteIfExists(link);
                }
            }
        } catch (IOException e) {
            say("could not remove launcher links in " + folder + ": " + e);
        }
    }

    /**
     * Processes still running whose command line names one of this benchmark's folders: the lab
     * (postgres, wal-prefetch, scp) and the hosts' (sshd).
     */
    private String leftovers(List<Path> folders) {
        List<String> found = new ArrayList<>();
        for (Path folder : folders) {
            ProcessResult r = runner.run(Command.of("pgrep", "-a", "-f", folder.toString()));
            if (r.succeeded()) {
                found.add(r.stdout().strip());
            }
        }
        return found.isEmpty() ? "none" : String.join("\n", found);
    }

    private String fileSystem(String what, Path p) {
        String fs = runner.run(Command.of("findmnt", "-n", "-o", "FSTYPE,SOURCE,TARGET", "--target", p.toString()))
                .requireSuccess()
                .stdout()
                .strip()
                .replaceAll("\\s+", " ");
        return what + " " + p + " on " + fs;
    }

    private long du(Path p) {
        String out = runner.run(Command.of("du", "-sb", p.toString()))
                .requireSuccess()
                .stdout();
        return Long.parseLong(out.split("\\s+")[0]);
    }

    private void chownTree(Path p) {
        runner.run(Command.of("chown", "-R", "postgres:postgres", p.toString())).requireSuccess();
    }

    private static String loadAverage() {
        try {
            String[] p = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return p[0] + " " + p[1] + " " + p[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static double secondsSince(long nanoStart) {
        return (System.nanoTime() - nanoStart) / 1e9;
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void say(String line) {
        System.out.println(line);
        System.out.flush();
        report.append(line).append('\n');
    }

    private void writeReport() throws IOException {
        Files.createDirectories(RESULTS);
        String stamp = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmmss"));
        Path file = RESULTS.resolve("wal-fetch-" + stamp + ".txt");
        Files.writeString(file, report);
        System.out.println("report written to " + file);
    }
}
