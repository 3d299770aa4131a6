// Starts the background `zpitr wal-prefetch` process for a spool, unless one already serves it.
package io.zpitr.appliance.wal;

import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.postgres.OsUser;
import io.zpitr.archive.Prefetcher;
import io.zpitr.archive.WalFetcher;
import io.zpitr.archive.WalSpool;
import io.zpitr.archive.WalVerifier;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prefetcher outlives the wal-fetch (or restore) that starts it: it runs in a session of its
 * own ({@code setsid}: PostgreSQL signals the whole process group of its restore_command), in
 * {@code /}, logging to the spool's {@code prefetch.log}. Starting it is best effort: a fetch never
 * fails because prefetch could not start.
 */
public final class PrefetcherProcess {
    private static final Logger LOG = LoggerFactory.getLogger(PrefetcherProcess.class);

    private PrefetcherProcess() {}

    /**
     * Writes one line to standard error (the spool's prefetch.log, for a prefetcher) when this
     * process ends, however it ends (idle, or stopped with TERM by restore-drop or demo --clean):
     * what the prefetcher did and what it cost. Not through the logger, whose default level (warn)
     * would hide it; an operator reading prefetch.log wants it.
     */
    public static void summarizeAtExit(Prefetcher prefetcher) {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> System.err.println(
                                java.time.OffsetDateTime.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS)
                                        + " prefetcher ends: " + prefetcher.summary()),
                        "prefetch-summary"));
    }

    /** bin/zpitr, when this JVM runs under it (it exports ZPITR_LAUNCHER; tests set -Dzpitr.launcher). */
    public static Optional<Path> launcher() {
        return Optional.ofNullable(System.getProperty("zpitr.launcher"))
                .or(() -> Optional.ofNullable(System.getenv("ZPITR_LAUNCHER")))
                .filter(l -> !l.isBlank())
                .map(Path::of);
    }

    /**
     * Takes the spool's prefetcher lock for this process and writes our pid into it (restore-drop
     * and demo --clean stop a prefetcher by it); empty when another process holds it.
     */
    public static Optional<FileChannel> claim(WalSpool spool) throws IOException {
        Optional<FileLock> lock = Prefetcher.tryLock(spool);
        if (lock.isEmpty()) {
            return Optional.empty();
        }
        FileChannel channel = lock.get().channel();
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)));
        return Optional.of(channel);
    }

    /**
     * The prefetcher for {@code spool} as configured: {@code archive.prefetch} segments ahead,
     * {@link WalFetchService#PREFETCH_WORKERS} at a time; {@code warm}, if given, becomes the first
     * worker's fetcher (its connections are open already).
     */
    public static Prefetcher create(
            Settings settings, WalSpool spool, long segmentSize, Duration idleExit, Optional<WalFetcher> warm) {
        AtomicReference<WalFetcher> first = new AtomicReference<>(warm.orElse(null));
        int depth = settings.archive().prefetch();
        Prefetcher prefetcher = new Prefetcher(
                spool,
                () -> {
                    WalFetcher handedOver = first.getAndSet(null);
                    return handedOver != null
                            ? handedOver
                            : new WalFetcher(ArchiveSources.open(settings), new WalVerifier(spool::systemIdentifier));
                },
                depth,
                Math.min(depth, WalFetchService.PREFETCH_WORKERS),
                segmentSize,
                idleExit,
                Clock.systemUTC());
        // Started for a PostgreSQL's restore_command: it ends with that PostgreSQL's recovery, not 60 s later.
        ServedCluster.fromEnvironment().ifPresent(served -> prefetcher.endWhen(served::gone));
        summarizeAtExit(prefetcher);
        return prefetcher;
    }

    /**
     * The prefetcher whose pid is in {@code spoolDir}'s lock file, if it runs: a {@code wal-prefetch},
     * or a {@code wal-fetch} that stayed on as the prefetcher ({@link LauncherHandoff}). A pid since
     * reused by another program is not it.
     */
    public static Optional<ProcessHandle> running(Path spoolDir) {
        return ProcessTrees.pidIn(spoolDir.resolve(WalSpool.LOCK))
                .flatMap(pid -> ProcessTrees.live(
                        pid,
                        ProcessTrees.commandLineContains("wal-prefetch")
                                .or(ProcessTrees.commandLineContains("wal-fetch"))));
    }

    /**
     * Stops the spool's {@link #running} prefetcher, if any, and returns once it is gone (TERM, KILL
     * after {@code grace}): until then its workers may still write into the spool. True if there was
     * one to stop.
     */
    public static boolean stop(Path spoolDir, Duration grace) {
        Optional<ProcessHandle> prefetcher = running(spoolDir);
        prefetcher.ifPresent(p -> ProcessTrees.stop(p, grace));
        return prefetcher.isPresent();
    }

    /** Whether no prefetcher holds the spool's lock right now. */
    public static boolean idle(WalSpool spool) {
        try {
            Optional<FileLock> lock = Prefetcher.tryLock(spool);
            if (lock.isEmpty()) {
                return false;
            }
            lock.get().channel().close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The data directory that holds {@code spoolDir} (up to three levels up), if any. */
    static Optional<Path> dataDirAround(Path spoolDir) {
        Path p = spoolDir.toAbsolutePath().getParent();
        for (int i = 0; i < 3 && p != null; i++, p = p.getParent()) {
            if (java.nio.file.Files.isRegularFile(p.resolve("global").resolve("pg_control"))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * @param osUser run it as this user (through runuser, when we are root), or empty for ourselves
     * @param spoolOverride a restore's own spool, passed as ZPITR_SPOOL_DIR, or empty
     * @param launcher bin/zpitr to run it through ({@link #launcher()} when known), else this JVM's class path
     */
    public static void startIfIdle(
            ProcessRunner runner,
            WalSpool spool,
            Path configFile,
            long segmentSize,
            Optional<String> osUser,
            Optional<Path> spoolOverride,
            Optional<Path> launcher) {
        startIfIdle(runner, spool, configFile, segmentSize, osUser, spoolOverride, launcher, Optional.empty());
    }

    /**
     * As above, for the PostgreSQL in {@code servedDataDir}: the prefetcher ends when that one stops
     * or leaves recovery ({@link ServedCluster}).
     */
    public static void startIfIdle(
            ProcessRunner runner,
            WalSpool spool,
            Path configFile,
            long segmentSize,
            Optional<String> osUser,
            Optional<Path> spoolOverride,
            Optional<Path> launcher,
            Optional<Path> servedDataDir) {
        try {
            Optional<FileLock> lock = Prefetcher.tryLock(spool);
            if (lock.isEmpty()) {
                return; // one is running
            }
            lock.get().channel().close();
            List<String> argv = new ArrayList<>();
            if (osUser.isPresent() && OsUser.isRoot() && !"root".equals(osUser.get())) {
                argv.addAll(OsUser.command(osUser.get(), List.of()));
                // The lock file was just created by us, root: the prefetcher must be able to open it.
                OsUser.giveTo(osUser.get(), spool.dir().resolve(WalSpool.LOCK));
            }
            argv.add("setsid");
            if (launcher.isPresent()) {
                // The installed launcher and jar, which the OS user can read (a JVM's class path may
                // not be: a build's dependencies under root's home). bin/zpitr runs wal-prefetch with
                // full JIT: SSH decryption is C2's (C1-only ran at 40 MB/s here).
                argv.addAll(List.of(
                        launcher.get().toString(),
                        "--config",
                        configFile.toString(),
                        "wal-prefetch",
                        "--segment-size",
                        Long.toString(segmentSize)));
            } else {
                argv.add(ProcessHandle.current().info().command().orElse("java"));
                // No TieredStopAtLevel=1 here (unlike bin/zpitr's short commands): this process lives
                // long and does SSH crypto, which C2-compiled code does several times faster. Default
                // compile thresholds: -XX:CompileThresholdScaling=0.2 got the second segment sooner but
                // cost more JIT CPU than it saved (bench/results:
                // wal-fetch-2026-11-22-022122-compile-sooner-cpu against -022237-experiment-default-jit).
                // No perf data: its sampler wakes the JVM every 50 ms (bin/zpitr says the same, with the figures).
                argv.addAll(List.of(
                        "-XX:+UseSerialGC",
                        "-XX:-UsePerfData",
                        "-Xmx256m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        "io.zpitr.appliance.cli.Main",
                        "--config",
                        configFile.toString(),
                        "wal-prefetch",
                        "--segment-size",
                        Long.toString(segmentSize)));
            }
            Map<String, String> env = new HashMap<>(System.getenv());
            spoolOverride.ifPresent(s -> env.put("ZPITR_SPOOL_DIR", s.toString()));
            servedDataDir.ifPresent(d -> env.put(WalFetchService.DATA_DIR_ENV, d.toString()));
            if (!env.containsKey(WalFetchService.DATA_DIR_ENV)) {
                // A spool inside a data directory (a restore's, in its clone's pg_wal) serves that PostgreSQL.
                dataDirAround(spool.dir()).ifPresent(d -> env.put(WalFetchService.DATA_DIR_ENV, d.toString()));
            }
            // Whether that PostgreSQL runs now, as seen from here: if so, the prefetcher ends as soon
            // as it stops, even before the prefetcher's first look (ServedCluster).
            env.remove(ServedCluster.RUNNING_ENV);
            Optional.ofNullable(env.get(WalFetchService.DATA_DIR_ENV))
                    .filter(d -> new ServedCluster(Path.of(d)).running())
                    .ifPresent(d -> env.put(ServedCluster.RUNNING_ENV, "1"));
            runner.startDetached(Command.of(argv).environment(env), spool.dir().resolve("prefetch.log"));
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not start the WAL prefetcher: {}", e.toString());
        }
    }
}
