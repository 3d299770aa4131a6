// Keeps the WAL since the newest snapshot set on this machine, so a restore from that set asks no archive host.
package io.zpitr.appliance.wal;

import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.archive.LocalDirectorySource;
import io.zpitr.archive.WalFetcher;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import io.zpitr.archive.WalSource;
import io.zpitr.archive.WalVerifier;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * {@code archive.mirror_dir}: the archived WAL from the newest snapshot set's redo segment on, copied
 * to this machine as it is archived (docs/restore-guide.md, "The WAL mirror"). A restore or drill
 * reads its WAL from here first and asks the archive hosts only for what the mirror lacks; a
 * restore from the newest set — the common one, "back to ten minutes ago" — then costs what a
 * restore from a local copy of the archive costs, with no SSH transport beside replay on the
 * appliance's cores.
 *
 * <p>Filled by {@link #pass}, which the daemon runs every few seconds and {@code zpitr wal-mirror}
 * runs once. A pass fetches the next segments on the set's timeline in order until the archive has
 * no more, each verified like every fetch (size, page magic, timeline, segment number, this
 * cluster's system identifier) and landed atomically and durably; it then deletes segments before
 * the newest set's redo segment, or of another timeline. Only 24-hex-digit segment names are ever
 * written or deleted here. The mirror is a cache: it may lag the archive by one interval, and a
 * segment it lacks is fetched from the sources as before.
 */
public final class WalMirror {
    /** The source name a mirror has in fetch lines and messages. */
    public static final String SOURCE_NAME = "mirror";

    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    /** A landing's temporary files (AtomicLanding) older than this are left over from a killed pass. */
    private static final long STALE_TEMP_MS = 10 * 60 * 1000L;

    private final Path dir;

    public WalMirror(Path dir) {
        this.dir = dir;
    }

    /** The configured mirror, if any. */
    public static Optional<WalMirror> of(Settings settings) {
        return settings.archive().mirrorDir().map(WalMirror::new);
    }

    public Path dir() {
        return dir;
    }

    /** The mirror as the first source a restore asks; its files are taken as they are (they were verified). */
    public WalSource source() {
        return LocalDirectorySource.cache(SOURCE_NAME, dir);
    }

    /**
     * What one pass did.
     *
     * @param fetched   segments copied into the mirror
     * @param pruned    segments deleted (before the newest set, or of another timeline)
     * @param first     the first segment the mirror keeps (the newest set's redo segment)
     * @param last      the last segment of the unbroken run from {@code first}, if any
     * @param stopped   why the pass stopped fetching: "end of archive", its share done, or what went wrong
     * @param troubled  whether it stopped because something went wrong (no source answered, only bad
     *                  copies) rather than at the end of the archive or of its share
     */
    public record Pass(int fetched, int pruned, String first, Optional<String> last, String stopped, boolean troubled) {
        /** One line for a log. */
        public String describe() {
            return "WAL mirror: " + fetched + " segment(s) fetched, " + pruned + " pruned; holds " + first
                    + last.map(l -> " through " + l).orElse(" (none yet)") + "; " + stopped;
        }
    }

    /** The verifier for {@code newest}'s cluster: only its own WAL enters the mirror. */
    public static WalVerifier verifierFor(SnapshotSet newest) {
        OptionalLong id = systemIdentifier(newest);
        return id.isPresent() ? WalVerifier.forCluster(id.getAsLong()) : new WalVerifier();
    }

    /**
     * Brings the mirror up to the archive for {@code newest}, at most {@code max} segments this pass.
     *
     * @param newest  the newest snapshot set; its redo LSN and timeline say where the mirror starts
     * @param fetcher the archive sources, verifying for {@code newest}'s cluster ({@link #verifierFor})
     * @return what was done; nothing when the set carries no PostgreSQL position
     * @throws IOException when the mirror folder cannot be written
     */
    public Pass pass(SnapshotSet newest, WalFetcher fetcher, int max) throws IOException {
        if (newest.redoLsn() == null || newest.timeline() < 1) {
            return new Pass(
                    0, 0, "-", Optional.empty(), "the newest set " + newest.id() + " carries no redo LSN", false);
        }
        Files.createDirectories(dir);
        WalFileName first =
                WalFileName.of(Lsn.parse(newest.redoLsn()).walFileName(newest.timeline(), WalSegments.DEFAULT_SIZE));
        int pruned = prune(first);
        WalFileName segment = first;
        WalFileName last = null;
        int fetched = 0;
        String stopped = "end of archive";
        boolean troubled = false;
        while (true) {
            Path at = dir.resolve(segment.name());
            if (!Files.isRegularFile(at)) {
                if (fetched >= max) {
                    stopped = "stopped after " + max + " segments; the next pass goes on";
                    break;
                }
                WalFetcher.Outcome outcome = fetcher.fetch(segment, at);
                if (outcome.status() != WalFetcher.Status.FETCHED) {
                    troubled = outcome.status() != WalFetcher.Status.MISSING;
                    stopped = outcome.status() == WalFetcher.Status.MISSING
                            ? "end of archive (" + segment + " not archived yet)"
                            : segment + ": " + outcome.status() + ": " + String.join("; ", outcome.lines());
                    break;
                }
                fetched++;
            }
            last = segment;
            segment = WalSegments.next(segment, WalSegments.DEFAULT_SIZE);
        }
        return new Pass(
                fetched, pruned, first.name(), Optional.ofNullable(last).map(WalFileName::name), stopped, troubled);
    }

    /** Deletes segments before {@code first} or of another timeline, and stale temporary files. */
    private int prune(WalFileName first) throws IOException {
        long firstNumber = WalSegments.segmentNumber(first, WalSegments.DEFAULT_SIZE);
        String timeline = first.name().substring(0, 8);
        List<Path> gone = new ArrayList<>();
        long now = System.currentTimeMillis();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (SEGMENT.matcher(name).matches()) {
                    WalFileName segment = WalFileName.of(name);
                    if (!name.startsWith(timeline)
                            || WalSegments.segmentNumber(segment, WalSegments.DEFAULT_SIZE) < firstNumber) {
                        gone.add(entry);
                    }
                } else if (name.startsWith(".")
                        && name.endsWith(".tmp")
                        && Files.isRegularFile(entry)
                        && now - Files.getLastModifiedTime(entry).toMillis() > STALE_TEMP_MS) {
                    gone.add(entry);
                }
            }
        }
        int segments = 0;
        for (Path p : gone) {
            if (Files.deleteIfExists(p)
                    && SEGMENT.matcher(p.getFileName().toString()).matches()) {
                segments++;
            }
        }
        return segments;
    }

    private static OptionalLong systemIdentifier(SnapshotSet set) {
        if (set.systemId() == null || set.systemId().isBlank()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseUnsignedLong(set.systemId().strip()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
