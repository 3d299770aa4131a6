// The prefetch spool: a folder of verified segments ahead of PostgreSQL's replay, and what it last asked for.
package io.zpitr.archive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A folder holding only complete, verified WAL segments under their own names (files arrive by
 * atomic rename), plus {@value #REQUESTED}, the name PostgreSQL asked for last. The launcher's fast
 * path ({@code bin/zpitr}) reads this folder directly: a segment present here is served with a
 * copy and no JVM. Bounded: the prefetcher keeps at most its depth of segments ahead of the last
 * request and the one before it, and drops those older.
 */
public final class WalSpool {
    /** The file holding the last requested segment name; written by the launcher's fast path too. */
    public static final String REQUESTED = ".requested";
    /** The lock a running prefetcher holds. */
    public static final String LOCK = ".prefetch.lock";
    /**
     * Prefix of a "missing" mark: {@code .missing-NAME} holds the time in epoch milliseconds when
     * every source that answered lacked NAME. The launcher answers "not found" from a mark younger
     * than {@link #MISSING_FRESH}, without a JVM; an older one means nothing.
     */
    public static final String MISSING = ".missing-";
    /**
     * Prefix of an "in flight" mark: {@code .inflight-NAME} holds the time in epoch milliseconds
     * when the prefetcher took NAME on. A launcher that misses NAME in the spool waits for it
     * (bounded) instead of starting a JVM to fetch the same file over the same network again.
     */
    public static final String IN_FLIGHT = ".inflight-";
    /**
     * The system identifier of the cluster this spool serves, in decimal, once known: the
     * prefetcher verifies against it, so that the launcher's fast path (which reads no header)
     * never hands another cluster's segment over.
     */
    public static final String SYSTEM_IDENTIFIER = ".system-identifier";
    /**
     * Prefix of a kept segment in a restore's spool: {@code .kept-NAME}, a second link to a segment,
     * for PostgreSQL's second read of the segment holding the last record at the end of recovery.
     * The restore's feed makes it as the segment lands ({@link #linkKept}), so that the launcher
     * hands the segment over with one command (it links it itself when the feed has not yet). The
     * restore keeps the newest few of those handed over ({@link #pruneKept}).
     */
    public static final String KEPT = ".kept-";
    /** How long a missing mark answers for the sources (the launcher hard-codes the same figure). */
    public static final java.time.Duration MISSING_FRESH = java.time.Duration.ofSeconds(1);
    /** The longest a mark may say it answers for (its second line): PostgreSQL's own retry interval. */
    public static final java.time.Duration MISSING_FRESH_MAX = java.time.Duration.ofSeconds(5);

    private final Path dir;
    private final Landing marks;
    private final boolean keptLinks;

    public WalSpool(Path dir) throws IOException {
        this(dir, Landing.DURABLE);
    }

    public WalSpool(Path dir, Landing marks) throws IOException {
        this(dir, marks, false);
    }

    /**
     * @param marks whom the spool's marks and {@value #REQUESTED} belong to: the launcher run by
     *              PostgreSQL's OS user reads them and rewrites {@value #REQUESTED}
     * @param keptLinks whether every segment landed here gets its {@link #KEPT} link ({@link
     *              #linkKept}): a restore's spool only. A standby's never: in standby mode PostgreSQL
     *              keeps restored segments under their own names and recycles them, writing into the
     *              inode a second link would share.
     */
    public WalSpool(Path dir, Landing marks, boolean keptLinks) throws IOException {
        this.dir = dir.toAbsolutePath().normalize();
        this.marks = marks;
        this.keptLinks = keptLinks;
        Files.createDirectories(this.dir);
    }

    public Path dir() {
        return dir;
    }

    /** The spooled copy of {@code name}, if present. */
    public Optional<Path> lookup(WalFileName name) {
        Path p = dir.resolve(name.name());
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /** Records that PostgreSQL asked for {@code name} (segments only). */
    public void recordRequested(WalFileName name) throws IOException {
        if (name.kind() != WalFileName.Kind.SEGMENT) {
            return;
        }
        writeAtomically(REQUESTED, name.name() + "\n");
    }

    /** The last requested segment, if any was recorded and it reads as a segment name. */
    public Optional<WalFileName> lastRequested() throws IOException {
        try {
            String text = Files.readString(dir.resolve(REQUESTED), StandardCharsets.US_ASCII)
                    .strip();
            WalFileName name = WalFileName.of(text);
            return name.kind() == WalFileName.Kind.SEGMENT ? Optional.of(name) : Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Records which cluster this spool serves ({@link #SYSTEM_IDENTIFIER}). When that is news, spooled
     * segments of another cluster (landed before it was known) are deleted. Returns how many were.
     */
    public int recordSystemIdentifier(long systemIdentifier) throws IOException {
        if (systemIdentifier().equals(java.util.OptionalLong.of(systemIdentifier))) {
            return 0;
        }
        writeAtomically(SYSTEM_IDENTIFIER, Long.toUnsignedString(systemIdentifier) + "\n");
        WalVerifier verifier = WalVerifier.forCluster(systemIdentifier);
        int dropped = 0;
        for (WalFileName n : segments()) {
            Path p = dir.resolve(n.name());
            try {
                if (!verifier.verify(p, n).ok()) {
                    Files.deleteIfExists(p);
                    dropped++;
                }
            } catch (NoSuchFileException e) {
                // served meanwhile
            }
        }
        return dropped;
    }

    /** The recorded system identifier of the cluster this spool serves; empty when unknown or unreadable. */
    public java.util.OptionalLong systemIdentifier() {
        try {
            String text = Files.readString(dir.resolve(SYSTEM_IDENTIFIER), StandardCharsets.US_ASCII)
                    .strip();
            return java.util.OptionalLong.of(Long.parseUnsignedLong(text));
        } catch (IOException | NumberFormatException e) {
            return java.util.OptionalLong.empty();
        }
    }

    /** Records that no source had {@code name} at {@code when}: see {@link #MISSING}. */
    public void markMissing(WalFileName name, java.time.Instant when) throws IOException {
        writeAtomically(MISSING + name.name(), when.toEpochMilli() + "\n");
    }

    /**
     * As {@link #markMissing(WalFileName, java.time.Instant)}, answering for {@code answersFor}
     * instead of {@link #MISSING_FRESH} (a second line, in milliseconds; the launcher believes at most
     * {@link #MISSING_FRESH_MAX}): the prefetcher asks the sources again before then.
     */
    public void markMissing(WalFileName name, java.time.Instant when, java.time.Duration answersFor)
            throws IOException {
        long millis = Math.max(MISSING_FRESH.toMillis(), Math.min(MISSING_FRESH_MAX.toMillis(), answersFor.toMillis()));
        writeAtomically(MISSING + name.name(), when.toEpochMilli() + "\n" + millis + "\n");
    }

    /** Records that the prefetcher took {@code name} on: see {@link #IN_FLIGHT}. */
    public void markInFlight(WalFileName name, java.time.Instant since) throws IOException {
        writeAtomically(IN_FLIGHT + name.name(), since.toEpochMilli() + "\n");
    }

    /** Removes the in-flight mark of {@code name}, if any. */
    public void clearInFlight(WalFileName name) throws IOException {
        Files.deleteIfExists(dir.resolve(IN_FLIGHT + name.name()));
    }

    /** Removes the missing mark of {@code name}, if any. */
    public void clearMissing(WalFileName name) throws IOException {
        Files.deleteIfExists(dir.resolve(MISSING + name.name()));
    }

    /** When a source last lacked {@code name}, if a readable mark says so. */
    public Optional<java.time.Instant> missingSince(WalFileName name) throws IOException {
        try {
            String text = Files.readString(dir.resolve(MISSING + name.name()), StandardCharsets.US_ASCII)
                    .strip();
            return Optional.of(java.time.Instant.ofEpochMilli(
                    Long.parseLong(text.lines().findFirst().orElse(""))));
        } catch (NoSuchFileException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Removes every in-flight mark: a prefetcher that starts clears what a killed one left. Missing
     * marks stay: each carries its own time and goes stale by itself, and a fresh one (the JVM
     * fetch that is about to become the prefetcher just wrote it) is a true answer.
     */
    public void clearInFlightMarks() throws IOException {
        for (String mark : marks(IN_FLIGHT)) {
            Files.deleteIfExists(dir.resolve(mark));
        }
    }

    /** Removes every mark (a prefetcher that stops takes its marks along). */
    public void clearMarks() throws IOException {
        for (String prefix : java.util.List.of(MISSING, IN_FLIGHT)) {
            for (String mark : marks(prefix)) {
                Files.deleteIfExists(dir.resolve(mark));
            }
        }
    }

    /**
     * In a spool made with kept links: links {@code .kept-NAME} to the segment {@code name} just
     * landed. Nothing when the segment has been handed over meanwhile (the launcher then linked it
     * itself) or a link of that name is there already (the launcher replaces one that is not the
     * same file).
     */
    public void linkKept(WalFileName name) throws IOException {
        if (!keptLinks || name.kind() != WalFileName.Kind.SEGMENT) {
            return;
        }
        try {
            Files.createLink(dir.resolve(KEPT + name.name()), dir.resolve(name.name()));
        } catch (NoSuchFileException | java.nio.file.FileAlreadyExistsException e) {
            // handed over already, or linked by the launcher
        }
    }

    /**
     * Deletes the kept segments ({@link #KEPT}) but the {@code keep} newest of those handed over;
     * the links of segments still in the spool stay while {@code keep} is above 0. Returns how many
     * it deleted.
     */
    public int pruneKept(int keep) throws IOException {
        TreeSet<String> kept = new TreeSet<>(java.util.Comparator.comparing(
                        (String n) -> n.substring(Math.min(n.length(), KEPT.length() + 8)))
                .thenComparing(n -> n));
        for (String link : marks(KEPT)) {
            if (keep == 0 || !Files.exists(dir.resolve(link.substring(KEPT.length())))) {
                kept.add(link);
            }
        }
        int deleted = 0;
        while (kept.size() > keep) {
            Files.deleteIfExists(dir.resolve(kept.pollFirst()));
            deleted++;
        }
        return deleted;
    }

    private java.util.List<String> marks(String prefix) throws IOException {
        java.util.List<String> found = new java.util.ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, prefix + "*")) {
            for (Path p : files) {
                found.add(p.getFileName().toString());
            }
        }
        return found;
    }

    private void writeAtomically(String fileName, String content) throws IOException {
        Path temp = Files.createTempFile(dir, ".mark-", ".tmp");
        try {
            Files.writeString(temp, content, StandardCharsets.US_ASCII);
            marks.giveTo(temp);
            Files.move(
                    temp, dir.resolve(fileName), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * When {@value #REQUESTED} was last written, if it exists: PostgreSQL asking again for the same
     * segment (the next one, missing, on every pass of a standby fed only from the archive) moves it
     * without changing the name.
     */
    public Optional<java.nio.file.attribute.FileTime> requestedAt() {
        try {
            return Optional.of(Files.getLastModifiedTime(dir.resolve(REQUESTED)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The segments in the spool, in name order. */
    public TreeSet<WalFileName> segments() throws IOException {
        TreeSet<WalFileName> names = new TreeSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String n = p.getFileName().toString();
                if (n.length() == 24 && n.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
                    names.add(WalFileName.of(n));
                }
            }
        }
        return names;
    }

    /** Deletes spooled segments (and their missing marks) that come before {@code requested} in WAL order (any timeline). */
    public int dropOlderThan(WalFileName requested) throws IOException {
        int dropped = 0;
        for (WalFileName n : segments()) {
            if (n.logAndSegment().compareTo(requested.logAndSegment()) < 0) {
                Files.deleteIfExists(dir.resolve(n.name()));
                dropped++;
            }
        }
        for (String mark : marks(MISSING)) {
            String n = mark.substring(MISSING.length());
            if (n.length() == 24 && n.substring(8).compareTo(requested.logAndSegment()) < 0) {
                Files.deleteIfExists(dir.resolve(mark));
            }
        }
        return dropped;
    }
}
