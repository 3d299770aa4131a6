// Keeps the spool filled with the segments PostgreSQL will ask for next, fetched in parallel.
package io.zpitr.archive;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background half of wal-fetch: a long-lived process that watches what PostgreSQL last asked
 * for ({@link WalSpool#lastRequested()}) and keeps the next {@code depth} segments verified in the
 * spool, so that replay takes them from local disk instead of waiting on the network.
 *
 * <p>Each worker owns its own {@link WalFetcher}, hence its own source connections, which it keeps
 * across segments (one SSH session per host per worker instead of one per segment). A segment no
 * source has is the archive's end for now: it is asked for again after {@link #MISSING_RETRY},
 * doubling while the end lasts up to {@link #MISSING_RETRY_MAX}, and
 * each answer is written as a missing mark ({@link WalSpool#MISSING}) that the launcher serves
 * PostgreSQL's end-of-archive requests from. Once the end is in sight, the timeline history files
 * PostgreSQL asks for when recovery ends (the current and the next timelines') are fetched or
 * marked missing the same way. One prefetcher per spool: {@link #tryLock} guards it across
 * processes. It stops by itself after {@code idleExit} without a request (the same segment asked
 * for again counts: a standby fed only from the archive asks for the missing next one every few
 * seconds, and its prefetcher stays on, pulling each segment as it reaches the archive).
 */
public final class Prefetcher {
    private static final Logger LOG = LoggerFactory.getLogger(Prefetcher.class);
    /** The first retry of a missing file: well inside {@link WalSpool#MISSING_FRESH}. */
    static final Duration MISSING_RETRY = Duration.ofMillis(250);
    /**
     * At a lasting end of the archive the retries back off, doubling up to this (PostgreSQL itself
     * asks again every wal_retrieve_retry_interval, 5 s by default): a caught-up standby's WAL
     * path then costs well under 1% of a core (docs/wal-fetch.md). Each missing mark says how long
     * it answers for the sources (the retry interval plus {@link #MARK_SLACK}), so the launcher
     * keeps answering PostgreSQL without a JVM in between.
     */
    static final Duration MISSING_RETRY_MAX = Duration.ofSeconds(4);

    static final Duration MARK_SLACK = Duration.ofMillis(750);
    /** How many timelines beyond the current one are looked for at the end of the archive. */
    private static final int HISTORY_AHEAD = 8;
    /** A pass every 10 ms while anything moves; up to {@link #IDLE_POLL_MILLIS} while nothing does. */
    private static final long POLL_MILLIS = 10;

    private static final long IDLE_POLL_MILLIS = 500;
    /** How often the prefetcher checks that it still has a spool and a lock, and someone to serve. */
    static final Duration OWNERSHIP_CHECK = Duration.ofSeconds(1);

    private final WalSpool spool;
    private final int depth;
    /**
     * At most this many segments are in flight (fetching, or queued for a worker) at once: one
     * waiting behind each worker, so a worker that lands a segment takes the next at once. The rest
     * of the window is scheduled pass by pass as they land. Each in-flight mark is a file made,
     * renamed and deleted in the spool; marking a whole window of 32 at once, on a fresh clone,
     * made one of PostgreSQL's next fsyncs there wait ~0.93 s (or twice that) in zfs-fuse, in 5 of
     * 8 restores; with 8 marks at once, in 0 of 8 (docs/restore-guide.md).
     */
    private final int queueLimit;
    /** The last pass left part of the window for later ({@link #queueLimit}): the next pass comes soon. */
    private boolean windowLeft;
    /**
     * Something a pass acts on has changed since the last one: a fetch ended (a worker is free, a
     * segment landed or turned out missing) or PostgreSQL asked again. Passes in between only read
     * {@code .requested}: a whole pass lists the spool folder twice, and at one every 10 ms that was
     * ~1 CPU-s in a 100-segment restore, on the cores replay needs (docs/restore-guide.md).
     */
    private final java.util.concurrent.atomic.AtomicBoolean news = new java.util.concurrent.atomic.AtomicBoolean(true);

    private final long segmentSize;
    private final Duration idleExit;
    private final Clock clock;
    private final BlockingQueue<WalFetcher> fetchers;
    private final ExecutorService workers;
    private final Set<WalFileName> inFlight = ConcurrentHashMap.newKeySet();
    /**
     * Segments this prefetcher put in the spool. The launcher moves a hit out of the spool, so a
     * segment gone from it was served: fetching it again would only take bandwidth from the next.
     */
    private final Set<WalFileName> landed = ConcurrentHashMap.newKeySet();

    private final Set<String> warnedSources = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicLong fetched = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong fetchedBytes = new java.util.concurrent.atomic.AtomicLong();
    private final Map<WalFileName, Instant> missingUntil = new ConcurrentHashMap<>();
    /** Set by {@link #stop}: an interrupt alone can be swallowed by a transport's own waits. */
    private volatile boolean stopping;
    /** Told of every fetch's outcome; see {@link #onOutcome}. */
    private volatile java.util.function.BiConsumer<WalFileName, WalFetcher.Outcome> outcomes = (n, o) -> {};
    /** Missing answers in a row since the last fetched file: the exponent of the end-of-archive back-off. */
    private final java.util.concurrent.atomic.AtomicInteger missesInARow =
            new java.util.concurrent.atomic.AtomicInteger();
    /** Why the prefetcher should stop now (what it serves is gone), or empty; see {@link #endWhen}. */
    private volatile java.util.function.Supplier<Optional<String>> endCondition = Optional::empty;
    /** The spool's lock file when this prefetcher was made (after its lock was taken); null if none. */
    private final Object lockIdentity;

    /**
     * @param workers how many segments are fetched at once; each gets its own fetcher from
     *                {@code fetcherFactory}
     */
    public Prefetcher(
            WalSpool spool,
            Supplier<WalFetcher> fetcherFactory,
            int depth,
            int workers,
            long segmentSize,
            Duration idleExit,
            Clock clock) {
        if (depth < 1 || workers < 1) {
            throw new IllegalArgumentException("prefetch depth and workers must be at least 1");
        }
        this.spool = spool;
        this.depth = depth;
        this.queueLimit = Integer.getInteger("zpitr.prefetch.queue", 2 * workers);
        this.segmentSize = segmentSize;
        this.idleExit = idleExit;
        this.clock = clock;
        this.fetchers = new ArrayBlockingQueue<>(workers);
        for (int i = 0; i < workers; i++) {
            fetchers.add(fetcherFactory.get());
        }
        this.lockIdentity = lockIdentity();
        this.workers = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "prefetch");
            t.setDaemon(true);
            return t;
        });
    }

    /** Takes the spool's prefetcher lock, or returns empty when another process holds it. */
    public static Optional<FileLock> tryLock(WalSpool spool) throws IOException {
        FileChannel channel = FileChannel.open(
                spool.dir().resolve(WalSpool.LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            channel.close();
            return Optional.empty();
        }
        return Optional.of(lock);
    }

    /**
     * Also stop, within about {@link #OWNERSHIP_CHECK}, once {@code condition} names a reason (say,
     * the PostgreSQL this spool serves has stopped or left recovery). Besides it, the prefetcher
     * always stops when its spool folder is gone or its lock file is no longer the one it locked.
     */
    public void endWhen(java.util.function.Supplier<Optional<String>> condition) {
        this.endCondition = java.util.Objects.requireNonNull(condition, "condition");
    }

    /** Runs until no new request came for {@code idleExit}, or what it serves is gone; call with the lock held. */
    public void run() throws IOException {
        Optional<WalFileName> last = Optional.empty();
        Optional<java.nio.file.attribute.FileTime> lastAsked = Optional.empty();
        Instant lastChange = clock.instant();
        Instant lastNews = clock.instant();
        spool.clearInFlightMarks(); // a prefetcher killed before its end may have left some
        long nextOwnershipCheck = System.nanoTime() + OWNERSHIP_CHECK.toNanos();
        try {
            while (!stopping) {
                if (System.nanoTime() - nextOwnershipCheck >= 0) {
                    Optional<String> end = ended(lockIdentity);
                    if (end.isPresent()) {
                        LOG.warn("prefetcher for {} stops: {}", spool.dir(), end.get());
                        return;
                    }
                    nextOwnershipCheck = System.nanoTime() + OWNERSHIP_CHECK.toNanos();
                }
                Optional<WalFileName> requested = spool.lastRequested();
                Optional<java.nio.file.attribute.FileTime> asked = spool.requestedAt();
                if (!requested.equals(last)) {
                    lastNews = clock.instant();
                }
                if (!requested.equals(last) || !asked.equals(lastAsked)) {
                    last = requested;
                    lastAsked = asked;
                    lastChange = clock.instant();
                    news.set(true);
                }
                // Quiet (nothing in flight, no new segment asked for in a second; the same one asked
                // again is answered from its mark): a pass now and then is enough, and only one whose
                // retry is due looks further than .requested (a pass costs a few directory reads).
                boolean quiet = inFlight.isEmpty()
                        && !windowLeft
                        && Duration.between(lastNews, clock.instant()).toMillis() > 1000;
                Instant now = clock.instant();
                if (requested.isPresent()
                        && (!quiet || retryDue(now))
                        && (news.getAndSet(false) || missingRetryDue(now))) {
                    fill(requested.get());
                }
                if (inFlight.isEmpty()
                        && Duration.between(lastChange, clock.instant()).compareTo(idleExit) > 0) {
                    LOG.info("no new request for {}; prefetcher stops", idleExit);
                    return;
                }
                sleep(quiet ? IDLE_POLL_MILLIS : POLL_MILLIS);
            }
            LOG.debug("prefetcher stopped by its owner");
        } catch (java.nio.file.NoSuchFileException e) {
            LOG.warn("prefetcher for {} stops: {} is gone", spool.dir(), e.getFile());
        } finally {
            try {
                spool.clearMarks();
            } catch (IOException e) {
                LOG.debug("could not clear the spool's marks: {}", e.toString());
            }
            workers.shutdownNow();
            try {
                workers.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (WalFetcher f : fetchers) {
                f.close();
            }
        }
    }

    /**
     * One pass: drop what replay has passed, start fetches for what it needs next. The segment
     * just before the requested one stays: at the end of archive recovery PostgreSQL asks for the
     * next segment (missing), then reads the last one again, and the launcher's fast path can
     * serve it from here instead of a JVM fetching it over the network once more.
     */
    void fill(WalFileName requested) throws IOException {
        long number = WalSegments.segmentNumber(requested, segmentSize);
        WalFileName oldest = number > 0 ? WalSegments.offset(requested, -1, segmentSize) : requested;
        spool.dropOlderThan(oldest);
        landed.removeIf(n -> n.logAndSegment().compareTo(oldest.logAndSegment()) < 0);
        Set<WalFileName> present = spool.segments();
        Instant now = clock.instant();
        // The requested segment itself is served by the foreground fetch; prefetch what follows --
        // unless it is known to be missing: then keep asking, so the missing mark stays fresh.
        boolean requestedMissing = !present.contains(requested)
                && (missingUntil.containsKey(requested)
                        || spool.missingSince(requested).isPresent());
        boolean endInSight = false;
        windowLeft = false;
        for (int i = requestedMissing ? 0 : 1; i <= depth; i++) {
            WalFileName next = WalSegments.offset(requested, i, segmentSize);
            if (missingUntil.containsKey(next) || (i == 0 && requestedMissing)) {
                // The archive ends before this one for now; segments beyond it can't be there yet.
                endInSight = true;
                schedule(next, now);
                break;
            }
            if (!present.contains(next) && !landed.contains(next)) {
                if (inFlight.size() >= queueLimit) {
                    windowLeft = true; // the rest on a later pass, as these land
                    break;
                }
                schedule(next, now);
            }
        }
        if (endInSight) {
            scheduleHistories(requested.timeline(), now);
        }
    }

    /**
     * When recovery ends PostgreSQL looks for the history files of the timelines after its own
     * (to choose the next free one) and restores its own (the new one's parent). Timeline 1 has
     * none, but is asked for all the same.
     */
    private void scheduleHistories(long timeline, Instant now) {
        schedule(history(timeline), now);
        for (long t = timeline + 1; t <= timeline + HISTORY_AHEAD; t++) {
            WalFileName next = history(t);
            if (spool.lookup(next).isEmpty()) {
                schedule(next, now);
                return;
            }
        }
    }

    private static WalFileName history(long timeline) {
        return WalFileName.of(String.format("%08X.history", timeline));
    }

    /** Starts fetching {@code name} unless it is in flight or was found missing too recently. */
    private void schedule(WalFileName name, Instant now) {
        Instant retryAt = missingUntil.get(name);
        if (retryAt != null && now.isBefore(retryAt)) {
            return;
        }
        if (spool.lookup(name).isPresent() && name.kind() == WalFileName.Kind.HISTORY) {
            return;
        }
        if (inFlight.add(name)) {
            try {
                spool.markInFlight(name, now);
            } catch (IOException e) {
                LOG.debug("could not mark {} in flight: {}", name, e.toString());
            }
            workers.execute(() -> fetchOne(name));
        }
    }

    private void fetchOne(WalFileName name) {
        WalFetcher fetcher = fetchers.poll();
        try {
            if (fetcher == null) {
                return; // more tasks than fetchers can't happen with a fixed pool; be safe anyway
            }
            WalFetcher.Outcome outcome = fetcher.fetch(name, spool.dir().resolve(name.name()));
            outcomes.accept(name, outcome);
            switch (outcome.status()) {
                case FETCHED -> {
                    missesInARow.set(0);
                    missingUntil.remove(name);
                    spool.clearMissing(name);
                    reportTrouble(name, outcome);
                    if (name.kind() == WalFileName.Kind.SEGMENT) {
                        try {
                            spool.linkKept(name);
                        } catch (IOException e) {
                            LOG.debug("could not link {} to keep: {}", name, e.toString()); // the launcher links it
                        }
                        landed.add(name);
                        fetched.incrementAndGet();
                        outcome.verification().segmentSize().ifPresent(fetchedBytes::addAndGet);
                    }
                }
                case MISSING -> {
                    Instant at = clock.instant();
                    Duration retry = missingRetry(
                            name.kind() == WalFileName.Kind.SEGMENT
                                    ? missesInARow.getAndIncrement()
                                    : missesInARow.get());
                    spool.markMissing(name, at, retry.plus(MARK_SLACK));
                    missingUntil.put(name, at.plus(retry));
                }
                default -> {
                    missingUntil.put(name, clock.instant().plus(MISSING_RETRY));
                    LOG.warn("prefetch of {} failed: {}", name, String.join("; ", outcome.lines()));
                }
            }
        } catch (IOException | RuntimeException e) {
            missingUntil.put(name, clock.instant().plus(MISSING_RETRY));
            LOG.warn("prefetch of {} failed: {}", name, e.toString());
        } finally {
            if (fetcher != null) {
                fetchers.add(fetcher);
            }
            try {
                spool.clearInFlight(name);
            } catch (IOException e) {
                LOG.debug("could not clear the in-flight mark of {}: {}", name, e.toString());
            }
            inFlight.remove(name);
            news.set(true);
        }
    }

    /** The lock file's identity (its inode) now, or null when it cannot be read. */
    private Object lockIdentity() {
        try {
            return java.nio.file.Files.readAttributes(
                            spool.dir().resolve(WalSpool.LOCK), java.nio.file.attribute.BasicFileAttributes.class)
                    .fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** Why this prefetcher has nothing left to serve, or empty. */
    private Optional<String> ended(Object lockIdentity) {
        if (!java.nio.file.Files.isDirectory(spool.dir())) {
            return Optional.of("its spool folder is gone");
        }
        if (lockIdentity != null && !lockIdentity.equals(lockIdentity())) {
            return Optional.of("its lock file " + spool.dir().resolve(WalSpool.LOCK) + " was removed or replaced");
        }
        try {
            return endCondition.get();
        } catch (RuntimeException e) {
            LOG.debug("end condition failed: {}", e.toString());
            return Optional.empty();
        }
    }

    /** Whether a file found missing is due to be asked for again (or nothing is known to be missing). */
    private boolean retryDue(Instant now) {
        return missingUntil.isEmpty() || missingRetryDue(now);
    }

    /** Whether a file found missing (or failed) is due to be asked for again. */
    private boolean missingRetryDue(Instant now) {
        return missingUntil.values().stream().anyMatch(at -> !now.isBefore(at));
    }

    /** The retry interval for a missing file after {@code misses} missing answers in a row. */
    static Duration missingRetry(int misses) {
        long millis = MISSING_RETRY.toMillis() << Math.min(misses, 10);
        return Duration.ofMillis(Math.min(millis, MISSING_RETRY_MAX.toMillis()));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new java.io.InterruptedIOException("prefetcher interrupted"));
        }
    }

    /**
     * A fetch that succeeded after a source failed (a host down, a bad copy): worth a warning in the
     * prefetcher's log, since replay never shows it, but once per source, not once per segment.
     */
    private void reportTrouble(WalFileName name, WalFetcher.Outcome outcome) {
        List<String> trouble = outcome.lines().stream()
                .filter(l -> !l.contains(": fetched ") && !l.endsWith(" not found"))
                .toList();
        boolean news = false;
        for (String line : trouble) {
            int colon = line.indexOf(": ");
            news |= warnedSources.add(colon > 0 ? line.substring(0, colon) : line);
        }
        if (news) {
            LOG.warn("prefetch of {}: {}", name, String.join("; ", outcome.lines()));
        }
    }

    /** Tells {@code listener} (from a worker thread) how each fetch went: for a command that reports them itself. */
    public void onOutcome(java.util.function.BiConsumer<WalFileName, WalFetcher.Outcome> listener) {
        this.outcomes = java.util.Objects.requireNonNull(listener, "listener");
    }

    /** Makes {@link #run} return after its current pass; for a prefetcher run inside another command. */
    public void stop() {
        stopping = true;
    }

    /** What this prefetcher has done, for its log: segments, bytes, and the process's CPU and its JIT compilers' share. */
    public String summary() {
        return "prefetched " + fetched.get() + " segments, " + (fetchedBytes.get() >> 20) + " MiB" + JvmCpu.describe();
    }

    /** The spool folder, for messages. */
    public Path spoolDir() {
        return spool.dir();
    }
}
