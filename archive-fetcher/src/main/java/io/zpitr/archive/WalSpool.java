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

    private final Path dir;

    public WalSpool(Path dir) throws IOException {
        this.dir = dir.toAbsolutePath().normalize();
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
        Path temp = Files.createTempFile(dir, ".requested-", ".tmp");
        try {
            Files.writeString(temp, name.name() + "\n", StandardCharsets.US_ASCII);
            Files.move(temp, dir.resolve(REQUESTED), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** The last requested segment, if any was recorded and it reads as a segment name. */
    public Optional<WalFileName> lastRequested() throws IOException {
        try {
            String text = Files.readString(dir.resolve(REQUESTED), StandardCharsets.US_ASCII).strip();
            WalFileName name = WalFileName.of(text);
            return name.kind() == WalFileName.Kind.SEGMENT ? Optional.of(name) : Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IllegalArgumentException e) {
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

    /** Deletes spooled segments that come before {@code requested} in WAL order (any timeline). */
    public int dropOlderThan(WalFileName requested) throws IOException {
        int dropped = 0;
        for (WalFileName n : segments()) {
            if (n.logAndSegment().compareTo(requested.logAndSegment()) < 0) {
                Files.deleteIfExists(dir.resolve(n.name()));
                dropped++;
            }
        }
        return dropped;
    }
}
