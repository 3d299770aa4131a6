// wal-fetch as PostgreSQL's restore_command sees it: spool first, then the sources; prefetch behind.
package io.zpitr.appliance.wal;

import io.zpitr.appliance.config.Settings;
import io.zpitr.archive.AtomicLanding;
import io.zpitr.archive.ClusterIdentity;
import io.zpitr.archive.Prefetcher;
import io.zpitr.archive.WalFetcher;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import io.zpitr.archive.WalSpool;
import io.zpitr.archive.WalVerifier;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches one file for PostgreSQL. A segment already in the prefetch spool is served from there
 * (verified again: cheap, and the spool is only a cache); anything else is fetched from the sources
 * in order. When none runs, this JVM stays on as the spool's prefetcher once it has answered
 * (under bin/zpitr: {@link LauncherHandoff}), or starts a prefetcher process (called otherwise), so
 * the next calls find their segments in the spool — and, through the launcher's fast path, need no
 * JVM at all.
 *
 * <p>The spool is an optimisation: a spool that cannot be used is logged and bypassed, never a
 * reason for a fetch to fail.
 */
public final class WalFetchService {
    private static final Logger LOG = LoggerFactory.getLogger(WalFetchService.class);

    /** PostgreSQL's default; the prefetcher's names assume it (a cluster with another size is served without prefetch hits). */

    /**
     * Segments fetched at once. Replay takes them in order, so the next one's arrival matters more
     * than the total rate: one JSch SFTP session here moved 16 MiB in 40-50 ms warm (322-408 MB/s),
     * two 324-464 MB/s, four 232-462 MB/s with each file taking 4 times as long
     * (SftpThroughputExperiment, 32 segments, 2 cores). Two: the rate of four, and a second
     * session while one host is slow. Overridable for measurements: -Dzpitr.prefetch.workers.
     */
    public static final int PREFETCH_WORKERS = Integer.getInteger("zpitr.prefetch.workers", 2);

    /** A prefetcher without requests for this long stops. */
    public static final java.time.Duration PREFETCH_IDLE_EXIT = java.time.Duration.ofSeconds(60);

    /**
     * Where PostgreSQL ran restore_command (its data directory), when bin/zpitr starts this JVM
     * elsewhere ({@code /}); unset, the working directory is that directory.
     */
    public static final String DATA_DIR_ENV = "ZPITR_PGDATA";

    private final Settings settings;
    private final ProcessRunner runner;
    private final OptionalLong givenSystemIdentifier;
    private Optional<StayingPrefetcher> staying = Optional.empty();

    public WalFetchService(Settings settings, ProcessRunner runner) {
        this(settings, runner, OptionalLong.empty());
    }

    /**
     * @param systemIdentifier the asking cluster's system identifier when the caller knows it (a
     *                         restore, from its snapshot); empty: read from the data directory
     *                         PostgreSQL runs restore_command in
     */
    public WalFetchService(Settings settings, ProcessRunner runner, OptionalLong systemIdentifier) {
        this.settings = settings;
        this.runner = runner;
        this.givenSystemIdentifier = systemIdentifier;
    }

    /** The result of one fetch: the status and one line per source worth telling. */
    public record Result(WalFetcher.Status status, List<String> lines) {}

    public Result fetch(WalFileName name, Path destination) throws IOException {
        Optional<WalSpool> spool = openSpool();
        WalVerifier verifier = verifier(spool);
        boolean prefetching = spool.isPresent()
                && name.kind() == WalFileName.Kind.SEGMENT
                && settings.archive().prefetch() > 0;
        if (spool.isPresent() && name.kind() == WalFileName.Kind.SEGMENT) {
            Optional<Result> served = fromSpool(spool.get(), name, destination, verifier);
            if (served.isPresent()) {
                return served.get();
            }
        }
        if (prefetching && LauncherHandoff.requested()) {
            staying = StayingPrefetcher.lockIfIdle(spool.get(), settings);
        }
        WalFetcher fetcher = new WalFetcher(ArchiveSources.open(settings), verifier);
        WalFetcher.Outcome outcome;
        try {
            outcome = fetcher.fetch(name, destination);
        } catch (IOException | RuntimeException e) {
            fetcher.close();
            throw e;
        }
        if (outcome.status() == WalFetcher.Status.MISSING && spool.isPresent()) {
            markMissing(spool.get(), name);
        }
        long segmentSize = outcome.status() == WalFetcher.Status.FETCHED
                ? outcome.verification().segmentSize().orElse(WalSegments.DEFAULT_SIZE)
                : WalSegments.DEFAULT_SIZE;
        if (staying.isPresent()) {
            // Whatever the outcome (a miss too: the prefetcher then keeps the missing mark fresh).
            // Its connections are open and warm: the prefetcher's first worker takes them over.
            staying.get().start(fetcher, segmentSize);
        } else {
            fetcher.close();
            if (prefetching && outcome.status() == WalFetcher.Status.FETCHED) {
                // After the fetch, not before: measured (bench/), a prefetcher JVM starting beside this
                // one on two cores slowed the first fetches more than it gained.
                PrefetcherProcess.startIfIdle(
                        runner,
                        spool.get(),
                        settings.file(),
                        segmentSize,
                        Optional.empty(),
                        Optional.ofNullable(System.getenv("ZPITR_SPOOL_DIR"))
                                .filter(v -> !v.isBlank())
                                .map(Path::of),
                        PrefetcherProcess.launcher());
            }
        }
        count(outcome.lines());
        return new Result(outcome.status(), outcome.lines());
    }

    /**
     * Segments must come from the asking cluster: its system identifier as given, else from the
     * data directory PostgreSQL runs us in, else as the spool recorded it. The one learnt is
     * recorded in the spool, for the prefetcher (and so for the launcher's fast path).
     */
    private WalVerifier verifier(Optional<WalSpool> spool) {
        OptionalLong expected = givenSystemIdentifier.isPresent() ? givenSystemIdentifier : askingCluster();
        if (expected.isEmpty()) {
            return spool.<WalVerifier>map(s -> new WalVerifier(s::systemIdentifier))
                    .orElseGet(WalVerifier::new);
        }
        spool.ifPresent(s -> {
            try {
                int dropped = s.recordSystemIdentifier(expected.getAsLong());
                if (dropped > 0) {
                    LOG.warn("dropped {} spooled segments of another cluster from {}", dropped, s.dir());
                }
            } catch (IOException e) {
                LOG.debug("could not record the system identifier in {}: {}", s.dir(), e.toString());
            }
        });
        return WalVerifier.forCluster(expected.getAsLong());
    }

    /** The system identifier in the asking data directory's pg_control; empty when not run in one. */
    private static OptionalLong askingCluster() {
        String given = System.getenv(DATA_DIR_ENV);
        Path dataDir = given == null || given.isBlank() ? Path.of("").toAbsolutePath() : Path.of(given);
        try {
            return ClusterIdentity.ofDataDirectory(dataDir);
        } catch (IOException e) {
            LOG.warn(
                    "cannot read which cluster asks ({}); segments are not checked for their system identifier",
                    e.getMessage());
            return OptionalLong.empty();
        }
    }

    /** Records the request for the prefetcher and serves a spooled copy; empty when there is none. */
    private Optional<Result> fromSpool(WalSpool spool, WalFileName name, Path destination, WalVerifier verifier) {
        try {
            spool.recordRequested(name);
            return serveFromSpool(spool, name, destination, verifier);
        } catch (IOException e) {
            LOG.warn("prefetch spool {} not usable, fetching directly: {}", spool.dir(), e.toString());
            return Optional.empty();
        }
    }

    /** The launcher answers the next asks for {@code name} (within WalSpool.MISSING_FRESH) without a JVM. */
    private static void markMissing(WalSpool spool, WalFileName name) {
        if (name.kind() == WalFileName.Kind.BACKUP || name.kind() == WalFileName.Kind.PARTIAL) {
            return; // the launcher answers segments and history files only
        }
        try {
            spool.markMissing(name, Instant.now());
        } catch (IOException e) {
            LOG.debug("could not mark {} missing in the spool: {}", name, e.toString());
        }
    }

    /**
     * The prefetcher this process started for its spool when the launcher asked for a handoff
     * ({@link LauncherHandoff}): it runs already; the caller answers the launcher, then waits for it.
     */
    public Optional<StayingPrefetcher> staying() {
        return staying;
    }

    /**
     * A prefetcher in this process, holding the spool's lock from before the foreground fetch (so no
     * other process starts one meanwhile) and running on a thread once that fetch is done: measured
     * (bench/), starting its workers' SSH handshakes beside the foreground fetch on two cores delayed
     * the first segment by about half a second.
     */
    public static final class StayingPrefetcher {
        private final WalSpool spool;
        private final Settings settings;
        private final FileChannel lock;
        private Thread thread;

        private StayingPrefetcher(WalSpool spool, Settings settings, FileChannel lock) {
            this.spool = spool;
            this.settings = settings;
            this.lock = lock;
        }

        static Optional<StayingPrefetcher> lockIfIdle(WalSpool spool, Settings settings) {
            try {
                return PrefetcherProcess.claim(spool).map(lock -> new StayingPrefetcher(spool, settings, lock));
            } catch (IOException | RuntimeException e) {
                LOG.warn("could not start the WAL prefetcher: {}", e.toString());
                return Optional.empty();
            }
        }

        /** Starts prefetching; {@code warm} (the foreground's fetcher) becomes the first worker's. */
        void start(WalFetcher warm, long segmentSize) {
            Prefetcher prefetcher =
                    PrefetcherProcess.create(settings, spool, segmentSize, PREFETCH_IDLE_EXIT, Optional.of(warm));
            thread = new Thread(
                    () -> {
                        try (lock) {
                            prefetcher.run();
                        } catch (IOException | RuntimeException e) {
                            LOG.warn("prefetcher stopped: {}", e.toString());
                        }
                    },
                    "prefetcher");
            thread.setDaemon(true);
            thread.start();
        }

        /** Where the prefetcher logs once the launcher has its answer. */
        public Path log() {
            return spool.dir().resolve("prefetch.log");
        }

        /** Waits until the prefetcher stops by itself (no request for {@link #PREFETCH_IDLE_EXIT}). */
        public void awaitEnd() throws InterruptedException {
            if (thread != null) {
                thread.join();
            }
        }
    }

    /** One count per source line: "<source>: fetched ...", "...not found", anything else failed. */
    private void count(List<String> lines) {
        WalFetchCounters counters = new WalFetchCounters(
                settings.walFetchCounters(), settings.archive().spoolDir());
        for (String line : lines) {
            int colon = line.indexOf(": ");
            if (colon <= 0) {
                continue;
            }
            String source = line.substring(0, colon);
            String rest = line.substring(colon + 2);
            counters.count(
                    source, rest.startsWith("fetched ") ? "ok" : rest.endsWith(" not found") ? "missing" : "failed");
        }
    }

    private Optional<Result> serveFromSpool(WalSpool spool, WalFileName name, Path destination, WalVerifier verifier)
            throws IOException {
        Optional<Path> spooled = spool.lookup(name);
        if (spooled.isEmpty()) {
            return Optional.empty();
        }
        Path temp = AtomicLanding.tempFileBeside(destination);
        try {
            Files.copy(spooled.get(), temp, StandardCopyOption.REPLACE_EXISTING);
            WalVerifier.Result check = verifier.verify(temp, name);
            if (!check.ok()) {
                LOG.warn("spooled {} failed verification ({}); dropping it", name, check.reason());
                Files.deleteIfExists(spooled.get());
                return Optional.empty();
            }
            AtomicLanding.land(temp, destination);
            new WalFetchCounters(settings.walFetchCounters(), spool.dir()).count("spool", "ok");
            return Optional.of(new Result(WalFetcher.Status.FETCHED, List.of("spool: served " + name)));
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private Optional<WalSpool> openSpool() {
        if (settings.archive().prefetch() == 0) {
            return Optional.empty();
        }
        try {
            WalSpool spool = new WalSpool(settings.archive().spoolDir());
            publishForLauncher(spool.dir());
            return Optional.of(spool);
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "prefetch spool {} not usable, fetching directly: {}",
                    settings.archive().spoolDir(),
                    e.toString());
            return Optional.empty();
        }
    }

    /**
     * Tells {@code bin/zpitr} where this configuration's spool is, so its fast path can serve a
     * spooled segment without starting a JVM: a symbolic link in a folder only this user owns,
     * named after the configuration file's path (the launcher finds the same name without parsing YAML).
     */
    private void publishForLauncher(Path spoolDir) throws IOException {
        Path folder = LauncherSpoolLink.folder();
        if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(
                    folder, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (!LauncherSpoolLink.ownedByUs(folder)) {
            LOG.warn("{} belongs to another user; the launcher's fast path stays off", folder);
            return;
        }
        Path link = folder.resolve(LauncherSpoolLink.name(settings.file()));
        if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(spoolDir)) {
            return;
        }
        Path temp = folder.resolve(".link-" + ProcessHandle.current().pid());
        Files.deleteIfExists(temp);
        Files.createSymbolicLink(temp, spoolDir);
        Files.move(temp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
