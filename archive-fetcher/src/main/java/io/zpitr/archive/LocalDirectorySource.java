// An archive source that is a folder on this machine: a local disk or an NFS mount.
package io.zpitr.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder holding archived WAL, configured as {@code type: local}: a local disk or an NFS mount.
 *
 * <p>{@link #find} looks at {@code <path>/<file>}, then at {@code <path>/<dir>/<file>} for every
 * folder directly below {@code path}, newest-named first (reverse lexical order, which is newest
 * first for dated names such as {@code 20261120}). Hidden folders (a leading dot, such as a
 * filer's {@code .snapshot}) are not archive folders and are skipped. Folders that are symbolic
 * links are followed: where the archive's folders live is its administrator's choice.
 *
 * <p>"Missing" versus "failed": a missing, non-folder or unreadable {@code path} throws
 * {@link SourceUnavailableException}, never an empty list. A dated folder that cannot be looked
 * into is skipped when the file is found elsewhere, and makes {@link #find} throw when it is not,
 * since the file may be in that folder.
 *
 * <p>Paths: every location is built from a validated {@link WalFileName} and checked to stay
 * under {@code path}; {@link #download} checks a {@link WalCopy}'s location the same way.
 */
public final class LocalDirectorySource implements WalSource {
    private static final Logger LOG = LoggerFactory.getLogger(LocalDirectorySource.class);
    /**
     * One direct buffer per copying thread: the bytes go from the page cache to the target without
     * a second copy through the Java heap, in writes of 1 MiB (what zfs-fuse takes at the least CPU
     * per byte: docs/restore-guide.md).
     */
    private static final int COPY_BUFFER_SIZE = 1 << 20;

    private static final ThreadLocal<ByteBuffer> COPY_BUFFER =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(COPY_BUFFER_SIZE));

    private final String name;
    private final Path path;
    private final boolean searchBelow;
    private final boolean authoritative;

    /**
     * A source named {@code name} (used in every message) for the folder {@code path}; nothing
     * is checked until {@link #find}, so a mount that comes back later is simply used then.
     */
    public LocalDirectorySource(String name, Path path) {
        this(name, path, true, true);
    }

    private LocalDirectorySource(String name, Path path, boolean searchBelow, boolean authoritative) {
        this.name = Objects.requireNonNull(name, "name");
        this.path = Objects.requireNonNull(path, "path").toAbsolutePath().normalize();
        this.searchBelow = searchBelow;
        this.authoritative = authoritative;
    }

    /**
     * A cache of the archive that holds its files directly (zpitr's WAL mirror): {@link #find} looks
     * at {@code <path>/<file>} only, without listing the folder on every call, and a miss here does
     * not make a file missing ({@link #authoritative()} is false).
     */
    public static LocalDirectorySource cache(String name, Path path) {
        return new LocalDirectorySource(name, path, false, false);
    }

    @Override
    public boolean authoritative() {
        return authoritative;
    }

    @Override
    public String name() {
        return name;
    }

    /** The folder this source searches, absolute. */
    public Path path() {
        return path;
    }

    /**
     * Every regular file named {@code file} at {@code <path>/<file>} and {@code <path>/<dir>/<file>},
     * in that order, dated folders newest-named first; locations are absolute paths.
     *
     * @throws SourceUnavailableException when {@code path} is missing, not a folder or unreadable,
     *                                    or when the file is not found and some folder below could
     *                                    not be looked into
     */
    @Override
    public List<WalCopy> find(WalFileName file) throws SourceUnavailableException {
        Objects.requireNonNull(file, "file");
        List<Path> folders = archiveFolders();
        List<WalCopy> copies = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path folder : folders) {
            Path candidate = inside(folder.resolve(file.name()));
            try {
                BasicFileAttributes attributes = Files.readAttributes(candidate, BasicFileAttributes.class);
                if (attributes.isRegularFile()) {
                    copies.add(new WalCopy(name, candidate.toString(), attributes.size()));
                }
            } catch (NoSuchFileException | NotDirectoryException e) {
                // Not in this folder: the normal case.
            } catch (IOException e) {
                problems.add("'" + candidate + "': " + describe(e));
            }
        }
        if (!problems.isEmpty()) {
            if (copies.isEmpty()) {
                throw new SourceUnavailableException(
                        name,
                        "could not look for " + file + " in "
                                + String.join("; ", problems) + "\nHINT: check the folder's permissions for this user"
                                + " and, for NFS, that the mount answers");
            }
            LOG.warn("source '{}': could not look for {} in {}", name, file, String.join("; ", problems));
        }
        return copies;
    }

    /**
     * Copies the file at {@code copy.location()} into {@code target}, replacing its content.
     *
     * @throws IllegalArgumentException   when the copy belongs to another source or lies outside
     *                                    this source's folder
     * @throws SourceUnavailableException when the file cannot be read (gone since {@link #find},
     *                                    an I/O error on the mount)
     * @throws IOException                when writing {@code target} fails
     */
    @Override
    public void download(WalCopy copy, Path target) throws SourceUnavailableException, IOException {
        Objects.requireNonNull(copy, "copy");
        Objects.requireNonNull(target, "target");
        if (!copy.source().equals(name)) {
            throw new IllegalArgumentException(
                    "copy from source '" + copy.source() + "' handed to source '" + name + "'");
        }
        Path location = Path.of(copy.location()).toAbsolutePath().normalize();
        if (!location.startsWith(path) || location.equals(path)) {
            throw new IllegalArgumentException(
                    "'" + copy.location() + "' is not inside source '" + name + "' folder '" + path + "'");
        }
        try (FileChannel in = open(location);
                FileChannel out = FileChannel.open(
                        target,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.CREATE)) {
            // A loop instead of transferTo: a read error is the source's failure, a write error ours.
            ByteBuffer buffer = COPY_BUFFER.get().clear();
            while (read(in, buffer, location) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                buffer.clear();
            }
        }
    }

    /** Nothing to release: every call opens and closes its own files. */
    @Override
    public void close() {}

    @Override
    public String toString() {
        return "LocalDirectorySource[" + name + ": " + path + "]";
    }

    /** {@code path} itself, then its visible sub-folders, newest-named first. */
    private List<Path> archiveFolders() throws SourceUnavailableException {
        if (!Files.isDirectory(path)) {
            throw new SourceUnavailableException(
                    name,
                    "archive folder '" + path + "' of source '" + name + "' "
                            + (Files.exists(path) ? "is not a folder" : "does not exist")
                            + "\nHINT: check archive.sources' path and, for NFS, that it is mounted");
        }
        if (!searchBelow) {
            return List.of(path);
        }
        List<Path> below = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
            for (Path entry : entries) {
                if (!entry.getFileName().toString().startsWith(".") && Files.isDirectory(entry)) {
                    below.add(entry);
                }
            }
        } catch (IOException e) {
            throw new SourceUnavailableException(
                    name,
                    "cannot read archive folder '" + path + "' of source '" + name + "': " + describe(e)
                            + "\nHINT: check the folder's permissions for this user",
                    e);
        }
        below.sort(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed());
        List<Path> folders = new ArrayList<>(below.size() + 1);
        folders.add(path);
        folders.addAll(below);
        return folders;
    }

    /** {@code candidate} if it stays under {@code path}; a WalFileName can never leave it, this proves it. */
    private Path inside(Path candidate) {
        Path normalized = candidate.normalize();
        if (!normalized.startsWith(path) || normalized.equals(path)) {
            throw new IllegalStateException("'" + candidate + "' escapes source folder '" + path + "'");
        }
        return normalized;
    }

    private FileChannel open(Path location) throws SourceUnavailableException {
        try {
            return FileChannel.open(location, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SourceUnavailableException(name, "'" + location + "' is gone since it was found", e);
        } catch (IOException e) {
            throw new SourceUnavailableException(name, "cannot open '" + location + "': " + describe(e), e);
        }
    }

    private int read(FileChannel in, ByteBuffer buffer, Path location) throws SourceUnavailableException {
        try {
            return in.read(buffer);
        } catch (IOException e) {
            throw new SourceUnavailableException(name, "cannot read '" + location + "': " + describe(e), e);
        }
    }

    /** An exception's message without Java's class names, which mean nothing to an operator. */
    private static String describe(IOException e) {
        // AccessDeniedException and friends carry no reason text: their class name is the reason.
        String detail = e instanceof FileSystemException fse ? fse.getReason() : e.getMessage();
        if (detail != null && !detail.isBlank()) {
            return detail;
        }
        return e.getClass()
                .getSimpleName()
                .replace("Exception", "")
                .replaceAll("([a-z])([A-Z])", "$1 $2")
                .toLowerCase(Locale.ROOT);
    }
}
