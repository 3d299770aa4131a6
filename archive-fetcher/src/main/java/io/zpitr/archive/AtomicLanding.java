// Puts a verified WAL file at PostgreSQL's %p so that it is either wholly there, durably, or not at all.
package io.zpitr.archive;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lands a downloaded, verified file at its destination (PostgreSQL's {@code %p}, typically
 * {@code pg_wal/RECOVERYXLOG}) the way PostgreSQL itself installs WAL files: write a temporary file
 * in the destination's own folder, fsync it, rename it over the destination, fsync the folder.
 * PostgreSQL therefore never sees a half-written file, and after a crash finds either the old
 * destination or the complete new one.
 *
 * <p>Usage: {@code Path temp = tempFileBeside(dest);} download and verify into {@code temp}, then
 * {@code land(temp, dest)}; on giving up, delete {@code temp}.
 */
public final class AtomicLanding {
    private static final Logger LOG = LoggerFactory.getLogger(AtomicLanding.class);
    private static final String TEMP_PREFIX = ".zpitr-";
    private static final String TEMP_SUFFIX = ".tmp";
    private static final int NAME_ATTEMPTS = 10;
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicLanding() {}

    /**
     * Creates a new, empty temporary file {@code .zpitr-<random>.tmp} in the folder of
     * {@code destination}, readable and writable by its owner only (as PostgreSQL makes WAL files).
     * Being in the same folder, hence on the same file system, it can be renamed over the
     * destination atomically. The name starts with a dot and never looks like a WAL file name, so
     * PostgreSQL ignores one left behind by a killed process.
     *
     * @throws NoSuchFileException when the destination's folder does not exist
     * @throws IOException         when the file cannot be created there
     */
    public static Path tempFileBeside(Path destination) throws IOException {
        Path folder = existingFolderOf(destination);
        for (int attempt = 1; ; attempt++) {
            Path temp = folder.resolve(TEMP_PREFIX + HexFormat.of().formatHex(randomBytes()) + TEMP_SUFFIX);
            try {
                // createFile is CREATE_NEW: it never opens a file someone else made.
                return Files.createFile(temp, ownerOnly(folder));
            } catch (FileAlreadyExistsException e) {
                if (attempt == NAME_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /**
     * Makes {@code temp} the {@code destination}: fsyncs {@code temp}, renames it atomically over
     * {@code destination} (replacing an existing file), then fsyncs the folder so the rename
     * survives a crash. A file system that refuses to fsync a folder is tolerated (logged at debug):
     * the rename itself has happened.
     *
     * <p>On any failure {@code temp} is removed and {@code destination} is left as it was: absent,
     * or the previous complete file, never a partial one.
     *
     * @throws IllegalArgumentException when {@code temp} is not in the destination's folder, where
     *                                  the rename would not be atomic
     * @throws NoSuchFileException      when the destination's folder does not exist
     * @throws IOException              when fsync or rename fails
     */
    public static void land(Path temp, Path destination) throws IOException {
        land(temp, destination, Landing.DURABLE);
    }

    /**
     * {@link #land(Path, Path)} as {@code mode} says: without the two fsyncs when it is not durable,
     * and owned by its owner (set on {@code temp}, before the rename) when it names one.
     */
    public static void land(Path temp, Path destination, Landing mode) throws IOException {
        Objects.requireNonNull(temp, "temp");
        boolean landed = false;
        try {
            Path folder = existingFolderOf(destination);
            Path tempFolder = temp.toAbsolutePath().normalize().getParent();
            if (!folder.equals(tempFolder)) {
                throw new IllegalArgumentException("temporary file '" + temp + "' is not in the folder of '"
                        + destination + "': the rename would not be atomic; create it with tempFileBeside");
            }
            mode.giveTo(temp);
            if (mode.durable()) {
                try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
            }
            // On POSIX, ATOMIC_MOVE is rename(2), which replaces an existing file atomically;
            // REPLACE_EXISTING states the intent for file systems where it matters.
            Files.move(temp, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            landed = true;
            if (mode.durable()) {
                syncFolder(folder);
            }
        } finally {
            if (!landed) {
                deleteQuietly(temp);
            }
        }
    }

    /**
     * Writes {@code content} as {@code destination}, wholly or not at all: a temporary file beside it
     * (mode {@code permissions}, owner as {@code mode} says), then {@link #land(Path, Path, Landing)}.
     * The one way zpitr replaces a small file of its own (state, pid, metrics, password files).
     */
    public static void write(Path destination, byte[] content, Set<PosixFilePermission> permissions, Landing mode)
            throws IOException {
        Path temp = tempFileBeside(destination);
        try {
            Files.setPosixFilePermissions(temp, permissions);
            mode.giveTo(temp); // before the content: a secret is never readable by the wrong user
            Files.write(temp, content, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(temp);
            throw e;
        }
        land(temp, destination, mode);
    }

    /** The destination's folder, absolute; it must exist, since creating folders under %p is not ours to do. */
    private static Path existingFolderOf(Path destination) throws NoSuchFileException {
        Objects.requireNonNull(destination, "destination");
        Path absolute = destination.toAbsolutePath().normalize();
        Path folder = absolute.getParent();
        if (folder == null || absolute.getFileName() == null) {
            throw new IllegalArgumentException("'" + destination + "' is not a file path");
        }
        if (!Files.isDirectory(folder)) {
            throw new NoSuchFileException(
                    folder.toString(),
                    null,
                    "folder of destination '" + destination + "' does not exist"
                            + "\nHINT: restore_command runs in the data directory; check that %p was passed as"
                            + " PostgreSQL gave it and that pg_wal exists");
        }
        return folder;
    }

    private static void syncFolder(Path folder) {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems (and some NFS servers) refuse fsync on a directory.
            LOG.debug("cannot fsync folder {} ({}); the rename stands", folder, e.toString());
        }
    }

    private static void deleteQuietly(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            LOG.warn("cannot remove temporary file {}: {}", temp, e.toString());
        }
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[8];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static FileAttribute<?>[] ownerOnly(Path folder) {
        if (folder.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return new FileAttribute<?>[] {
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
            };
        }
        return new FileAttribute<?>[0];
    }
}
