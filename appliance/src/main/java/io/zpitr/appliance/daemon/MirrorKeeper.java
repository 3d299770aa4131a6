// The daemon's part of the WAL mirror: a pass every few seconds over connections kept open between passes.
package io.zpitr.appliance.daemon;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.appliance.wal.ArchiveSources;
import io.zpitr.appliance.wal.WalMirror;
import io.zpitr.archive.WalFetcher;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link WalMirror#pass} for the daemon. The archive sources stay logged in between passes
 * (one SSH login per host while all goes well, not one every few seconds); they are opened afresh
 * after a pass that could not reach them, and for a newest set of another cluster. A pass fetches
 * at most {@link #MAX_PER_PASS} segments, so the daemon's stop is never far away.
 */
final class MirrorKeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorKeeper.class);
    /** How often the daemon looks for newly archived WAL ({@code -Dzpitr.mirror.every.ms}, for tests). */
    static Duration every() {
        return Duration.ofMillis(Long.getLong("zpitr.mirror.every.ms", 10_000));
    }

    static final int MAX_PER_PASS = 64;

    private final Appliance appliance;
    private final WalMirror mirror;
    private volatile WalFetcher fetcher;
    private String fetcherCluster;
    private String lastLine = "";

    MirrorKeeper(Appliance appliance, WalMirror mirror) {
        this.appliance = appliance;
        this.mirror = mirror;
    }

    /** One pass; logs what changed (quietly when nothing did). */
    synchronized void runOnce() {
        try {
            List<SnapshotSet> sets = appliance.catalog().list();
            if (sets.isEmpty()) {
                return;
            }
            SnapshotSet newest = sets.get(sets.size() - 1);
            if (fetcher == null || !Objects.equals(fetcherCluster, newest.systemId())) {
                closeFetcher();
                fetcher = new WalFetcher(ArchiveSources.open(appliance.settings()), WalMirror.verifierFor(newest));
                fetcherCluster = newest.systemId();
            }
            WalMirror.Pass pass = mirror.pass(newest, fetcher, MAX_PER_PASS);
            boolean trouble = pass.troubled();
            if (trouble) {
                closeFetcher(); // reconnect next time
                if (!pass.describe().equals(lastLine)) {
                    LOG.warn("{}", pass.describe());
                }
            } else if (pass.fetched() > 0 || pass.pruned() > 0) {
                LOG.info("{}", pass.describe());
            }
            lastLine = pass.describe();
        } catch (IOException | RuntimeException e) {
            closeFetcher();
            LOG.warn("WAL mirror pass failed: {}", e.toString());
        }
    }

    private void closeFetcher() {
        if (fetcher != null) {
            fetcher.close();
            fetcher = null;
        }
    }

    /** Closes the connections, also under a running pass (which then ends with a warning), so a stop never waits on it. */
    @Override
    public void close() {
        WalFetcher f = fetcher;
        if (f != null) {
            f.close();
        }
    }
}
