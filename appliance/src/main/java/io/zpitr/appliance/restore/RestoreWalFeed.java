// Fills a restore's spool from inside the restoring process, from the moment its clone exists until it is done.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.wal.ArchiveSources;
import io.zpitr.archive.ClusterIdentity;
import io.zpitr.archive.Landing;
import io.zpitr.archive.Prefetcher;
import io.zpitr.archive.WalFetcher;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import io.zpitr.archive.WalSource;
import io.zpitr.archive.WalSpool;
import io.zpitr.archive.WalVerifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A restore's WAL prefetch, run by the {@code zpitr restore} process itself rather than by a
 * prefetcher process of its own. That process lives exactly as long as the restore needs WAL (it
 * waits for the target), is warm by the time replay starts (it planned the restore over the same
 * sources), and begins fetching as soon as the clone exists — while PostgreSQL is still starting —
 * so replay finds the first segments in the spool. PostgreSQL's restore_command ({@code bin/zpitr
 * wal-fetch}) serves them from the spool without a JVM, and tells the feed what it asked for last.
 *
 * <p>Files are landed for the restored server's OS user and without fsync: the clone is thrown away
 * if the restore does not finish, and nothing in it is durable before then anyway. The feed ends
 * when the restore ends ({@link #close}), whatever the outcome; nothing outlives the command.
 */
final class RestoreWalFeed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RestoreWalFeed.class);
    /**
     * Segments kept ahead of replay: a restore reads the archive in one pass, so deeper than a
     * standby's prefetch. 32 x 16 MiB in the clone at most.
     */
    static final int DEPTH = Integer.getInteger("zpitr.restore.prefetch", 32);
    /**
     * Segments fetched at once. On a 2-core machine one, two or three made no difference (the
     * transport's CPU bounds replay, not the number of fetches: docs/restore-guide.md); one takes
     * the least CPU from replay.
     */
    static final int WORKERS = Integer.getInteger("zpitr.restore.workers", 1);
    /**
     * Segments fetched at once for {@code --immediate} from the archive hosts: its two or three
     * segments are all there is to replay, and PostgreSQL waits for each while it has nothing else
     * to do, so a second fetch uses the core replay leaves idle (measured: 0.15-0.35 s sooner;
     * docs/restore-guide.md). From the WAL mirror, a local copy each, one keeps up.
     */
    static final int IMMEDIATE_WORKERS = 2;

    private final Prefetcher prefetcher;
    private final HistoryKeeper histories;
    private final FileLock lock;
    private final Thread thread;
    private final Thread historyThread;
    private final WalFileName first;

    private RestoreWalFeed(Prefetcher prefetcher, HistoryKeeper histories, FileLock lock, WalFileName first) {
        this.prefetcher = prefetcher;
        this.histories = histories;
        this.lock = lock;
        this.thread = new Thread(this::run, "restore-wal-feed");
        this.thread.setDaemon(true);
        this.first = first;
        this.historyThread = new Thread(histories::run, "restore-wal-histories");
        this.historyThread.setDaemon(true);
    }

    /**
     * Starts filling {@code spoolDir} from {@code firstSegment} on, its files owned as the folder is.
     * Empty when prefetch is off ({@code archive.prefetch: 0}) or another prefetcher holds the spool.
     * {@code immediate}: the restore replays only up to the snapshot's consistent point.
     */
    static Optional<RestoreWalFeed> start(
            Settings settings,
            Path spoolDir,
            String firstSegment,
            long segmentSize,
            long timeline,
            List<WalSource> warm,
            List<WalSource> spare,
            Path pgdata,
            boolean immediate)
            throws IOException {
        if (settings.archive().prefetch() <= 0) {
            warm.forEach(WalSource::close);
            spare.forEach(WalSource::close);
            return Optional.empty();
        }
        // Whoever owns the spool folder (the restore made it for the server's OS user) owns what lands in it.
        PosixFileAttributes folder = Files.readAttributes(spoolDir, PosixFileAttributes.class);
        Landing landing = new Landing(false, Optional.of(folder.owner()), Optional.of(folder.group()));
        // With kept links: the launcher hands a segment over with one command (WalSpool.KEPT).
        WalSpool spool = new WalSpool(spoolDir, landing, true);
        // Only the restored cluster's own WAL: its system identifier from the clone's pg_control,
        // recorded in the spool for the launcher and any wal-fetch PostgreSQL runs.
        OptionalLong cluster = ClusterIdentity.ofDataDirectory(pgdata);
        if (cluster.isPresent()) {
            spool.recordSystemIdentifier(cluster.getAsLong());
        }
        Supplier<WalVerifier> verifier =
                () -> cluster.isPresent() ? WalVerifier.forCluster(cluster.getAsLong()) : new WalVerifier();
        WalFileName first = WalFileName.of(firstSegment);
        // "Asked for the one before the first": the prefetcher fetches from the first on.
        spool.recordRequested(
                WalSegments.segmentNumber(first, segmentSize) > 0 ? WalSegments.offset(first, -1, segmentSize) : first);
        Optional<FileLock> lock = Prefetcher.tryLock(spool);
        if (lock.isEmpty()) {
            warm.forEach(WalSource::close);
            spare.forEach(WalSource::close);
            return Optional.empty();
        }
        // Who holds the spool, as a prefetcher process records it: the launcher waits for a file in
        // flight only while the process named here runs.
        FileChannel channel = lock.get().channel();
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        landing.giveTo(spoolDir.resolve(WalSpool.LOCK));
        int depth = Math.max(DEPTH, settings.archive().prefetch());
        // The history lookups get the plan's connections, already logged in: PostgreSQL's first
        // request is for a history file, answered before it starts (below). The first worker gets
        // the spare set, logged in to the first source while planning; other workers connect now.
        java.util.concurrent.atomic.AtomicReference<List<WalSource>> spareLeft =
                new java.util.concurrent.atomic.AtomicReference<>(spare.isEmpty() ? null : spare);
        // With a WAL mirror holding the first segment: the hosts only for WAL past it, and only
        // once replay nears its end (NearMirrorEnd).
        Optional<Long> mirrorEnd = settings.archive().mirrorDir().flatMap(m -> NearMirrorEnd.mirrorEnd(m, first));
        int workers = immediate && mirrorEnd.isEmpty() ? IMMEDIATE_WORKERS : WORKERS;
        Prefetcher prefetcher = new Prefetcher(
                spool,
                () -> {
                    List<WalSource> given = spareLeft.getAndSet(null);
                    List<WalSource> sources = given != null ? given : ArchiveSources.forRestore(settings);
                    return new WalFetcher(
                            mirrorEnd.isPresent() ? NearMirrorEnd.holdBack(sources, spool, mirrorEnd.get()) : sources,
                            verifier.get(),
                            landing);
                },
                depth,
                workers,
                segmentSize,
                Duration.ofDays(1),
                Clock.systemUTC());
        HistoryKeeper histories = new HistoryKeeper(
                spool,
                new WalFetcher(warm.isEmpty() ? ArchiveSources.forRestore(settings) : warm, verifier.get(), landing),
                timeline);
        RestoreWalFeed feed = new RestoreWalFeed(prefetcher, histories, lock.get(), first);
        prefetcher.onOutcome(feed::noteTrouble);
        feed.thread.start();
        return Optional.of(feed);
    }

    /** Until the first segment is in flight or in the spool, for at most 2 s. */
    private static void awaitFirstFetch(WalSpool spool, WalFileName first) {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (!Files.exists(spool.dir().resolve(WalSpool.IN_FLIGHT + first.name()))
                && spool.lookup(first).isEmpty()
                && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void run() {
        try {
            prefetcher.run();
        } catch (IOException | UncheckedIOException e) {
            if (!Thread.currentThread().isInterrupted() && !(e.getCause() instanceof java.io.InterruptedIOException)) {
                LOG.warn("the restore's WAL prefetch stopped: {}; PostgreSQL fetches the rest itself", e.toString());
            }
        } catch (RuntimeException e) {
            LOG.warn("the restore's WAL prefetch stopped: {}; PostgreSQL fetches the rest itself", e.toString());
        }
    }

    /**
     * The first fetch that succeeded only after a source failed (a host down, a bad copy), as
     * {@code prefetch of NAME: source: what happened; ...}: worth a line in the restore's report,
     * since the server log never shows it. Later ones say the same of the same hosts.
     */
    private final java.util.concurrent.atomic.AtomicReference<String> trouble =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** Set when the restore stops the feed: what fetches report from then on is not the sources' doing. */
    private volatile boolean stopping;

    private void noteTrouble(WalFileName name, WalFetcher.Outcome outcome) {
        if (stopping) {
            // Our own stop interrupts a fetch under way; that is no host's trouble (the fetcher
            // then tries the next source).
            return;
        }
        boolean troubled =
                outcome.lines().stream().anyMatch(l -> !l.contains(": fetched ") && !l.endsWith(" not found"));
        if (troubled && outcome.status() == WalFetcher.Status.FETCHED) {
            trouble.compareAndSet(null, "prefetch of " + name + ": " + String.join("; ", outcome.lines()));
        }
        if (outcome.status() == WalFetcher.Status.UNAVAILABLE && name.kind() == WalFileName.Kind.SEGMENT) {
            unanswered.accumulateAndGet(name.name(), (a, b) -> a == null || b.compareTo(a) > 0 ? b : a);
        }
    }

    /** The last segment no source could be asked for (a mirror's miss is no answer); null if none. */
    private final java.util.concurrent.atomic.AtomicReference<String> unanswered =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * The last segment the feed could ask no archive source for: if replay of "all the archive
     * holds" ended before it, that may not be the end of the archive.
     */
    Optional<String> unanswered() {
        return Optional.ofNullable(unanswered.get());
    }

    /** See {@link #noteTrouble}. */
    Optional<String> trouble() {
        return Optional.ofNullable(trouble.get());
    }

    /** What the feed did, for the restore's report. */
    String summary() {
        return prefetcher.summary();
    }

    /**
     * Stops fetching segments: at the target, replay needs no more of them (the history lookups go
     * on until {@link #close}, for the promotion).
     *
     * @param primeAgain put the history answers back at once (a promotion is still to come)
     */
    void stopSegments(boolean primeAgain) {
        stopping = true;
        prefetcher.stop();
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(2).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        // A prefetcher clears the spool's marks as it ends: the history answers go back at once,
        // before PostgreSQL asks for those files at promotion.
        if (primeAgain) {
            primeHistories();
        }
    }

    /** One pass of the history lookups now, in this thread; see {@link HistoryKeeper}. */
    void primeHistories() {
        try {
            histories.passOnce();
        } catch (IOException | RuntimeException e) {
            LOG.debug("history lookups for the restore: {}", e.toString());
        }
    }

    /**
     * Answers PostgreSQL's first requests (history files, at start-up) from the spool: call just
     * before the server starts. The files it asks for first are marked in flight and looked up in
     * the background, so the server starts without waiting for an archive host's login (a restore
     * with a WAL mirror has none yet): the launcher waits on those marks for the answer rather than
     * starting a JVM. Then keeps the answers fresh until {@link #close}.
     */
    void startHistories() {
        awaitFirstFetch(histories.spool, first);
        histories.markFirstAsked();
        historyThread.start();
    }

    /**
     * Deletes the segments kept for the end of recovery: once the instance is promoted or shut
     * down, nothing reads them again (a paused restore keeps them for its promotion).
     */
    void dropKept() {
        try {
            histories.spool.pruneKept(0);
        } catch (IOException e) {
            LOG.debug("could not drop the kept segments: {}", e.toString());
        }
    }

    /**
     * Stops the feed without waiting for a fetch under way to finish: the restore is over, and its
     * threads (daemons) end with the command at the latest. What they still land in the spool goes
     * with the clone.
     */
    @Override
    public void close() {
        stopping = true;
        prefetcher.stop();
        histories.stop();
        thread.interrupt();
        historyThread.interrupt();
        try {
            lock.channel().close();
        } catch (IOException e) {
            LOG.debug("could not release the spool lock: {}", e.toString());
        }
    }

    /** {@link #close}, then waits (bounded) until nothing writes into the spool: before its clone is destroyed. */
    void closeAndWait() {
        close();
        try {
            thread.join(Duration.ofSeconds(10).toMillis());
            historyThread.join(Duration.ofSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Keeps PostgreSQL's timeline history lookups answered from the spool. At start-up (with
     * {@code recovery_target_timeline = latest}) and again at promotion, PostgreSQL asks for the
     * history files of the timelines after its own, and at promotion for its own: normally all
     * missing. Each miss the launcher cannot answer from a fresh missing mark costs a JVM start. So
     * the sources are asked about those files again and again (every {@link #RECHECK}, well inside
     * the marks' freshness), each answer written as a mark or, when one appears, as the file.
     */
    static final class HistoryKeeper implements AutoCloseable {
        static final Duration RECHECK = Duration.ofMillis(400);
        /** How long a missing mark answers for the sources: several rechecks, in case one is slow. */
        static final Duration MARK_ANSWERS_FOR = Duration.ofSeconds(2);

        private static final int AHEAD = 8;
        /**
         * Segments kept for PostgreSQL's second read at the end of recovery ({@link WalSpool#KEPT}):
         * the segment of the last record replayed lies among the last few handed over (read-ahead
         * takes at most {@code wal_decode_buffer_size}, 512 kB by default, past it).
         */
        static final int KEPT = 4;

        final WalSpool spool;
        private final WalFetcher fetcher;
        private final long timeline;
        private volatile boolean stopping;

        HistoryKeeper(WalSpool spool, WalFetcher fetcher, long timeline) {
            this.spool = spool;
            this.fetcher = fetcher;
            this.timeline = timeline;
        }

        void run() {
            try {
                while (!stopping) {
                    passOnce();
                    Thread.sleep(RECHECK.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException | RuntimeException e) {
                if (!Thread.currentThread().isInterrupted()) {
                    LOG.debug("history lookups for the restore stopped: {}", e.toString());
                }
            } finally {
                fetcher.close();
            }
        }

        /**
         * The own timeline's history (none for timeline 1, but asked for) and the next ones up to
         * the first missing; and the kept segments trimmed to the newest {@link #KEPT}.
         */
        void passOnce() throws IOException {
            spool.pruneKept(KEPT);
            keep(history(timeline));
            for (long t = timeline + 1; t <= timeline + AHEAD; t++) {
                if (!keep(history(t))) {
                    return;
                }
            }
        }

        /**
         * In-flight marks on the history files PostgreSQL asks for first (its own timeline's and the
         * next), for the first pass to clear once it has the answer.
         */
        void markFirstAsked() {
            try {
                for (WalFileName name : List.of(history(timeline), history(timeline + 1))) {
                    if (spool.lookup(name).isEmpty()) {
                        spool.markInFlight(name, java.time.Instant.now());
                    }
                }
            } catch (IOException e) {
                LOG.debug("history lookups for the restore: {}", e.toString());
            }
        }

        /** True when the file is in the spool (or arrived now). Clears its in-flight mark, answered or not. */
        private boolean keep(WalFileName name) throws IOException {
            try {
                if (spool.lookup(name).isPresent()) {
                    return true;
                }
                WalFetcher.Outcome o = fetcher.fetch(name, spool.dir().resolve(name.name()));
                switch (o.status()) {
                    case FETCHED -> {
                        spool.clearMissing(name);
                        return true;
                    }
                    case MISSING -> spool.markMissing(name, java.time.Instant.now(), MARK_ANSWERS_FOR);
                    default -> LOG.debug("history lookup of {}: {}", name, String.join("; ", o.lines()));
                }
                return false;
            } finally {
                spool.clearInFlight(name);
            }
        }

        void stop() {
            stopping = true;
        }

        private static WalFileName history(long timeline) {
            return WalFileName.of(String.format(java.util.Locale.ROOT, "%08X.history", timeline));
        }

        @Override
        public void close() {
            stop();
        }
    }
}
