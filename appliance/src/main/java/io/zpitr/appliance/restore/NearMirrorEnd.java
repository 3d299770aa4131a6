// An archive host that a restore's WAL feed asks for WAL past the mirror only once replay nears the mirror's end.
package io.zpitr.appliance.restore;

import io.zpitr.archive.SourceUnavailableException;
import io.zpitr.archive.WalCopy;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import io.zpitr.archive.WalSource;
import io.zpitr.archive.WalSpool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * With a WAL mirror, a restore's feed copies the mirror's segments ahead of replay in a moment, and
 * would then ask the archive hosts at once for what lies past the mirror's last segment: an SSH
 * login and polling beside replay on the same cores, for WAL that a restore whose target lies inside
 * the mirror never reads. This wrapper holds those asks back until PostgreSQL has asked for a
 * segment within {@link #NEAR} of the mirror's end (segments inside the mirror, which reach a host
 * only when the mirror's copy is bad, and history files are asked at once). Replay then still has
 * {@code NEAR} segments to go while the host logs in and the first fetch runs.
 */
final class NearMirrorEnd implements WalSource {
    static final int NEAR = 8;
    private static final long POLL_MS = 50;

    private final WalSource host;
    private final WalSpool spool;
    private final long mirrorEnd;
    private volatile boolean closed;

    private NearMirrorEnd(WalSource host, WalSpool spool, long mirrorEnd) {
        this.host = host;
        this.spool = spool;
        this.mirrorEnd = mirrorEnd;
    }

    /**
     * The segment number of the last of the unbroken run of segments in {@code mirror} from {@code
     * first} on, if the mirror holds {@code first}.
     */
    static Optional<Long> mirrorEnd(Path mirror, WalFileName first) {
        WalFileName s = first;
        Long last = null;
        while (Files.isRegularFile(mirror.resolve(s.name()))) {
            last = WalSegments.segmentNumber(s, WalSegments.DEFAULT_SIZE);
            s = WalSegments.next(s, WalSegments.DEFAULT_SIZE);
        }
        return Optional.ofNullable(last);
    }

    /** {@code sources} with every archive source (all but the mirror) held back as the class says. */
    static List<WalSource> holdBack(List<WalSource> sources, WalSpool spool, long mirrorEnd) {
        return sources.stream()
                .map(s -> s.authoritative() ? (WalSource) new NearMirrorEnd(s, spool, mirrorEnd) : s)
                .toList();
    }

    private boolean open(WalFileName file) {
        if (file.kind() != WalFileName.Kind.SEGMENT
                || WalSegments.segmentNumber(file, WalSegments.DEFAULT_SIZE) <= mirrorEnd) {
            return true;
        }
        try {
            Optional<WalFileName> asked = spool.lastRequested();
            return asked.isEmpty()
                    || asked.get().kind() != WalFileName.Kind.SEGMENT
                    || WalSegments.segmentNumber(asked.get(), WalSegments.DEFAULT_SIZE) >= mirrorEnd - NEAR;
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    @Override
    public String name() {
        return host.name();
    }

    @Override
    public List<WalCopy> find(WalFileName file) throws SourceUnavailableException {
        boolean waited = false;
        while (!open(file)) {
            waited = true;
            if (closed) {
                throw new SourceUnavailableException(host.name(), "the restore's WAL feed is stopping");
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SourceUnavailableException(
                        host.name(), "interrupted while waiting for replay to near " + "the end of the WAL mirror");
            }
        }
        if (waited) {
            // The feed marked the file in flight when it took it on, maybe long ago: the launcher
            // waits on a mark for 10 s from its time, so the wait starts now.
            try {
                if (Files.exists(spool.dir().resolve(WalSpool.IN_FLIGHT + file.name()))) {
                    spool.markInFlight(file, java.time.Instant.now());
                }
            } catch (IOException e) {
                // The launcher then fetches the file itself if it is asked for first: slower, never wrong.
            }
        }
        return host.find(file);
    }

    @Override
    public void download(WalCopy copy, Path target) throws SourceUnavailableException, IOException {
        host.download(copy, target);
    }

    @Override
    public boolean authoritative() {
        return host.authoritative();
    }

    @Override
    public void close() {
        closed = true;
        host.close();
    }
}
