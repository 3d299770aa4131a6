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
 * source has is the archive's end for now: it is asked for again after {@link #MISSING_RETRY}.
 * One prefetcher per spool: {@link #tryLock} guards it across processes. It stops by itself after
 * {@code idleExit} without a new request.
 */
public final class Prefetcher {
    private static final Logger LOG = LoggerFactory.getLogger(Prefetcher.class);
    static final Duration MISSING_RETRY = Duration.ofSeconds(1);
    private static final long POLL_MILLIS = 10;

    private final WalSpool spool;
    private final int depth;
    private final long segmentSize;
    private final Duration idleExit;
    private final Clock clock;
    private final BlockingQueue<WalFetcher> fetchers;
    private final ExecutorService workers;
    private final Set<WalFileName> inFlight = ConcurrentHashMap.newKeySet();
    private final Map<WalFileName, Instant> missingUntil = new ConcurrentHashMap<>();

    /**
     * @param workers how many segments are fetched at once; each gets its own fetcher from
     *                {@code fetcherFactory}
     */
    public Prefetcher(WalSpool spool, Supplier<WalFetcher> fetcherFactory, int depth, int workers,
                      long segmentSize, Duration idleExit, Clock clock) {
        if (depth < 1 || workers < 1) {
            throw new IllegalArgumentException("prefetch depth and workers must be at least 1");
        }
        this.spool = spool;
        this.depth = depth;
        this.segmentSize = segmentSize;
        this.idleExit = idleExit;
        this.clock = clock;
        this.fetchers = new ArrayBlockingQueue<>(workers);
        for (int i = 0; i < workers; i++) {
            fetchers.add(fetcherFactory.get());
        }
        this.workers = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "prefetch");
            t.setDaemon(true);
            return t;
        });
    }

    /** Takes the spool's prefetcher lock, or returns empty when another process holds it. */
    public static Optional<FileLock> tryLock(WalSpool spool) throws IOException {
        FileChannel channel = FileChannel.open(spool.dir().resolve(WalSpool.LOCK),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            channel.close();
            return Optional.empty();
        }
        return Optional.of(lock);
    }

    /** Runs until no new request came for {@code idleExit}; call with the lock held. */
    public void run() throws IOException {
        Optional<WalFileName> last = Optional.empty();
        Instant lastChange = clock.instant();
        try {
            while (true) {
                Optional<WalFileName> requested = spool.lastRequested();
                if (!requested.equals(last)) {
                    last = requested;
                    lastChange = clock.instant();
                }
                if (requested.isPresent()) {
                    fill(requested.get());
                }
                if (inFlight.isEmpty() && Duration.between(lastChange, clock.instant()).compareTo(idleExit) > 0) {
                    LOG.info("no new request for {}; prefetcher stops", idleExit);
                    return;
                }
                sleep();
            }
        } finally {
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
        spool.dropOlderThan(WalSegments.segmentNumber(requested, segmentSize) > 0
                ? WalSegments.offset(requested, -1, segmentSize) : requested);
        Set<WalFileName> present = spool.segments();
        Instant now = clock.instant();
        // The requested segment itself is served by the foreground fetch; prefetch what follows.
        for (int i = 1; i <= depth; i++) {
            WalFileName next = WalSegments.offset(requested, i, segmentSize);
            Instant retryAt = missingUntil.get(next);
            if (retryAt != null && now.isBefore(retryAt)) {
                break;  // the archive ends before this one; segments beyond it can't be there yet
            }
            if (present.contains(next) || !inFlight.add(next)) {
                continue;
            }
            workers.execute(() -> fetchOne(next));
        }
    }

    private void fetchOne(WalFileName name) {
        WalFetcher fetcher = fetchers.poll();
        try {
            if (fetcher == null) {
                return;  // more tasks than fetchers can't happen with a fixed pool; be safe anyway
            }
            WalFetcher.Outcome outcome = fetcher.fetch(name, spool.dir().resolve(name.name()));
            switch (outcome.status()) {
                case FETCHED -> missingUntil.remove(name);
                case MISSING -> missingUntil.put(name, clock.instant().plus(MISSING_RETRY));
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
            inFlight.remove(name);
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new java.io.InterruptedIOException("prefetcher interrupted"));
        }
    }

    /** The spool folder, for messages. */
    public Path spoolDir() {
        return spool.dir();
    }
}
