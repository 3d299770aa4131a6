// The append-only audit log: one JSON line per event, each carrying the hash of the line before it.
package io.zpitr.appliance.audit;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The audit log ({@code audit.log}, default {@code <state_dir>/audit.jsonl}): one line per event,
 * in the form {@link AuditRecord} describes, each line's {@code prev} the SHA-256 of the line
 * before it, so {@link #verify()} finds a line that was changed or removed.
 *
 * <p>Appends are safe from many threads and processes at once (the daemon and manual commands):
 * each takes an exclusive lock on the sibling {@code <log>.lock} file, reads the last line, writes
 * the new line in one write and fsyncs before unlocking. An append looks only at the last line,
 * never the whole file: a damaged middle line is {@link #verify()}'s to find, and appending goes on
 * after it. A last line without its newline (a write cut short by a crash) or that is not a
 * record makes {@link #append} refuse, naming the file and the line, so the chain is never built
 * on a partial record. A missing log and its folder are created, the log and lock with mode 0640
 * and the folder with 0750 (group members may read and verify, no one else).
 *
 * <p>The chain proves order and integrity against accidental or casual edits; it is not a
 * signature: someone who may write the file can rewrite every line after a change. Removing the
 * newest lines leaves a valid chain: keep {@link ChainCheck#head()} elsewhere to detect that.
 *
 * <p>Thread-safe. Readers ({@link #entries()}, {@link #verify()}) take a shared lock when the lock
 * file exists and they may read it, so they never see a line being written.
 */
public final class AuditLog {
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r-----");
    private static final Set<PosixFilePermission> FOLDER_MODE = PosixFilePermissions.fromString("rwxr-x---");

    /*
     * POSIX record locks belong to the process, not the channel: a second lock from this JVM on
     * the same file fails (OverlappingFileLockException), and closing any descriptor of the file
     * drops every lock this process holds on it. So within the JVM, one mutex per lock file (by
     * device and inode) serializes all use of it; the OS lock is only taken under that mutex.
     */
    private static final ConcurrentHashMap<Object, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    private final Path file;
    private final Path lockFile;
    private final Clock clock;
    private final Actor actor;

    /** The log at {@code file}, written as this process at the system clock's time. */
    public AuditLog(Path file) {
        this(file, Clock.systemUTC(), Actor.current());
    }

    /** The log at {@code file}, with the time and the actor given (tests, and callers acting for someone). */
    public AuditLog(Path file, Clock clock, Actor actor) {
        this.file = file.toAbsolutePath().normalize();
        this.lockFile = this.file.resolveSibling(this.file.getFileName() + ".lock");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.actor = Objects.requireNonNull(actor, "actor");
    }

    /** The log file. */
    public Path file() {
        return file;
    }

    /** Whether the log exists (it is created by the first append). */
    public boolean exists() {
        return Files.exists(file);
    }

    /**
     * Appends one event, durably (fsync) before returning.
     *
     * @param command the arguments zpitr was started with, as given ({@code ["hold", "ID", "--tag",
     *                "legal"]}), without the program name; the daemon's jobs pass {@code ["daemon"]}
     *                and name the job in {@code details}. zpitr has no option that takes a password
     *                (secrets come from files named in the config), so argv is safe to record;
     *                callers must pass argv and nothing else here
     * @param details free-form facts (snapshot id, datasets, error message, …); strings, numbers,
     *                booleans, maps and collections keep their JSON types, other values are written
     *                as text; never put secrets here
     * @return the record as written, with its {@code seq} and {@code prev}
     * @throws AuditLogException when the last line is partial or not a record (message names the
     *                           file and the line, with a HINT), or the log cannot be written
     */
    public AuditRecord append(AuditEvent event, List<String> command, Outcome outcome, Map<String, ?> details) {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(outcome, "outcome");
        List<String> argv = List.copyOf(command);
        var detailsNode = AuditRecord.detailsOf(details);
        try {
            return underLock(true, () -> {
                createFile(file);
                try (FileChannel log = FileChannel.open(file, READ, WRITE)) {
                    long size = log.size();
                    long seq = 1;
                    String prev = AuditRecord.FIRST_PREV;
                    if (size > 0) {
                        byte[] last = lastLine(log, size);
                        seq = lastRecord(log, size - 1 - last.length, last).seq() + 1;
                        prev = AuditRecord.sha256Hex(last);
                    }
                    AuditRecord record = new AuditRecord(
                            clock.instant(), event.wireName(), actor, argv, outcome, detailsNode, seq, prev);
                    write(log, size, record.toLine());
                    return record;
                }
            });
        } catch (IOException e) {
            throw new AuditLogException(
                    "cannot append to audit log " + file + ": " + describe(e)
                            + "\nHINT: zpitr needs to create and write " + file + " and " + lockFile.getFileName()
                            + " beside it (audit.log in the config); check the folder exists or can be created, its owner and"
                            + " mode, and free space",
                    e);
        }
    }

    /** Every line, in order, parsed where it parses; empty when there is no log. */
    public List<Entry> entries() {
        if (!exists()) {
            return List.of();
        }
        try {
            return underLock(false, () -> {
                List<Entry> entries = new ArrayList<>();
                try (LineReader lines = new LineReader(Files.newInputStream(file))) {
                    for (LineReader.Line line = lines.next(); line != null; line = lines.next()) {
                        String text = AuditRecord.utf8(line.bytes());
                        if (!line.terminated()) {
                            entries.add(
                                    new Entry(line.number(), text, null, "no trailing newline: an interrupted write"));
                            continue;
                        }
                        try {
                            entries.add(new Entry(line.number(), text, AuditRecord.parse(line.bytes()), null));
                        } catch (IllegalArgumentException e) {
                            entries.add(new Entry(line.number(), text, null, e.getMessage()));
                        }
                    }
                }
                return entries;
            });
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new AuditLogException("cannot read audit log " + file + ": " + describe(e), e);
        }
    }

    /** One line of the log: its record, or why it is not one. */
    public record Entry(long line, String text, AuditRecord record, String problem) {}

    /**
     * Checks the chain: every line ends with a newline, parses as a record, and carries the
     * SHA-256 of the line before it (64 zeros on line 1) and the next {@code seq}. Stops at the
     * first bad line and names it precisely: a changed line is found through its successor's
     * {@code prev}, a removed one through the gap in {@code seq}.
     */
    public ChainCheck verify() {
        if (!exists()) {
            return ChainCheck.missing(file);
        }
        try {
            return underLock(false, this::check);
        } catch (NoSuchFileException e) {
            return ChainCheck.missing(file);
        } catch (IOException e) {
            throw new AuditLogException("cannot read audit log " + file + ": " + describe(e), e);
        }
    }

    private ChainCheck check() throws IOException {
        try (LineReader lines = new LineReader(Files.newInputStream(file))) {
            byte[] before = null;
            long beforeSeq = 0;
            LineReader.Line line = lines.next();
            while (line != null) {
                LineReader.Line next = lines.next();
                Finding bad = finding(line, before, beforeSeq, next);
                if (bad != null) {
                    long count = line.number();
                    for (LineReader.Line rest = next; rest != null; rest = lines.next()) {
                        count++;
                    }
                    return new ChainCheck(file, true, count, bad.line(), bad.problem(), bad.hint(), null);
                }
                before = line.bytes();
                beforeSeq = AuditRecord.parse(line.bytes()).seq();
                if (next == null) {
                    return new ChainCheck(file, true, line.number(), 0, null, null, AuditRecord.sha256Hex(before));
                }
                line = next;
            }
            return new ChainCheck(file, true, 0, 0, null, null, null);
        }
    }

    private record Finding(long line, String problem, String hint) {}

    private Finding finding(LineReader.Line line, byte[] before, long beforeSeq, LineReader.Line next) {
        long n = line.number();
        if (!line.terminated()) {
            return new Finding(
                    n,
                    "has no trailing newline: the write of this record was interrupted (a crash or a full disk)",
                    "keep a copy of the log as evidence, then cut the partial line off with 'truncate -s "
                            + line.offset() + " " + file + "'; zpitr refuses to append until then");
        }
        if (line.bytes().length == 0) {
            return edited(n, "is empty");
        }
        AuditRecord record;
        try {
            record = AuditRecord.parse(line.bytes());
        } catch (IllegalArgumentException e) {
            return edited(n, "is not a valid audit record (" + e.getMessage() + "): it was changed or damaged");
        }
        String expectedPrev = before == null ? AuditRecord.FIRST_PREV : AuditRecord.sha256Hex(before);
        long expectedSeq = beforeSeq + 1;
        boolean prevOk = record.prev().equals(expectedPrev);
        long seq = record.seq();
        if (prevOk && seq == expectedSeq) {
            return null;
        }
        if (prevOk) {
            return edited(
                    n,
                    "was changed: its seq is " + seq + ", not " + expectedSeq
                            + ", though its prev matches the line before it");
        }
        if (seq > expectedSeq) {
            long gone = seq - expectedSeq;
            String lines = gone == 1 ? "1 line" : gone + " lines";
            if (n == 1) {
                return edited(
                        1,
                        "the first " + lines + " of the log " + (gone == 1 ? "was" : "were")
                                + " removed: line 1 has seq " + seq + " and its prev is not 64 zeros");
            }
            return edited(
                    n,
                    lines + " before it " + (gone == 1 ? "was" : "were") + " removed: seq jumps from " + beforeSeq
                            + " on line " + (n - 1) + " to " + seq + ", and its prev does not match line " + (n - 1));
        }
        if (seq < expectedSeq) {
            return edited(
                    n,
                    "is out of order: seq " + seq + " follows seq " + beforeSeq + " and its prev does not match line "
                            + (n - 1) + ": lines were inserted, duplicated or moved");
        }
        if (n == 1) {
            return edited(1, "was changed: the first line's prev must be 64 zeros");
        }
        // seq fits but prev does not: line n-1 changed, or line n's own prev did. Line n+1 tells.
        if (next == null || !next.terminated()) {
            return edited(
                    n - 1,
                    "was changed, or line " + n + "'s prev was: line " + n + "'s prev does not match the hash of line "
                            + (n - 1));
        }
        if (linksTo(next, line)) {
            return edited(
                    n - 1,
                    "was changed: line " + n + "'s prev does not match its hash (line " + n + " itself is intact: line "
                            + (n + 1) + "'s prev matches it)");
        }
        return edited(
                n,
                "was changed: its prev does not match line " + (n - 1) + ", and line " + (n + 1)
                        + "'s prev does not match it");
    }

    /** A line changed, removed or added by hand: say which lines can still be trusted. */
    private Finding edited(long line, String problem) {
        return new Finding(
                line,
                problem,
                "the log was edited or damaged outside zpitr"
                        + (line > 1 ? "; lines 1 to " + (line - 1) + " are intact" : "")
                        + ". Compare it with a backup or a ZFS snapshot of " + file + ", and keep a copy as evidence");
    }

    private static boolean linksTo(LineReader.Line line, LineReader.Line before) {
        try {
            return AuditRecord.parse(line.bytes()).prev().equals(AuditRecord.sha256Hex(before.bytes()));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The last line's bytes, without its newline; refuses (naming the line) when the file does not
     * end with a newline. {@code size} is more than 0.
     */
    private byte[] lastLine(FileChannel log, long size) throws IOException {
        boolean ended = byteAt(log, size - 1) == '\n';
        long end = ended ? size - 1 : size;
        long start = lastNewlineBefore(log, end) + 1;
        if (!ended) {
            throw new AuditLogException("audit log " + file + ": line " + lineNumberAt(log, start)
                    + " has no trailing newline: the write of that record was interrupted (a crash or a full disk);"
                    + " refusing to append on a partial record"
                    + "\nHINT: keep a copy of the log as evidence, then cut the partial line off with 'truncate -s "
                    + start + " " + file + "'; 'zpitr audit --verify' checks the rest");
        }
        if (end - start > Integer.MAX_VALUE - 8) {
            throw new IOException("its last line is " + (end - start) + " bytes long");
        }
        ByteBuffer line = ByteBuffer.allocate((int) (end - start));
        while (line.hasRemaining()) {
            if (log.read(line, start + line.position()) < 0) {
                throw new IOException("the file shrank while locked");
            }
        }
        return line.array();
    }

    /** The record on the last line, which starts at {@code start}; refuses when it is not one. */
    private AuditRecord lastRecord(FileChannel log, long start, byte[] line) throws IOException {
        try {
            return AuditRecord.parse(line);
        } catch (IllegalArgumentException e) {
            throw new AuditLogException("audit log " + file + ": line " + lineNumberAt(log, start)
                    + " is not a valid audit record (" + e.getMessage() + "); refusing to append after it"
                    + "\nHINT: run 'zpitr audit --verify'; to go on auditing, move the log aside (keep it as evidence):"
                    + " the next event starts a new log");
        }
    }

    /** The position of the last '\n' in {@code [0, end)}, or -1. Reads backwards: lines are short, logs long. */
    private static long lastNewlineBefore(FileChannel log, long end) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(8192);
        long to = end;
        while (to > 0) {
            long from = Math.max(0, to - chunk.capacity());
            chunk.clear().limit((int) (to - from));
            while (chunk.hasRemaining() && log.read(chunk, from + chunk.position()) >= 0) {
                // fill the chunk
            }
            for (int i = chunk.position() - 1; i >= 0; i--) {
                if (chunk.get(i) == '\n') {
                    return from + i;
                }
            }
            to = from;
        }
        return -1;
    }

    private static byte byteAt(FileChannel log, long position) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        log.read(one, position);
        return one.get(0);
    }

    /** The 1-based number of the line starting at {@code start}; only for error messages. */
    private static long lineNumberAt(FileChannel log, long start) throws IOException {
        long lines = 1;
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        for (long at = 0; at < start; ) {
            chunk.clear().limit((int) Math.min(chunk.capacity(), start - at));
            int read = log.read(chunk, at);
            if (read <= 0) {
                break;
            }
            for (int i = 0; i < read; i++) {
                if (chunk.get(i) == '\n') {
                    lines++;
                }
            }
            at += read;
        }
        return lines;
    }

    /** Writes the line and its newline at {@code size} and fsyncs; on failure cuts the file back. */
    private static void write(FileChannel log, long size, byte[] line) throws IOException {
        ByteBuffer buffer =
                ByteBuffer.allocate(line.length + 1).put(line).put((byte) '\n').flip();
        try {
            while (buffer.hasRemaining()) {
                log.write(buffer, size + buffer.position());
            }
            log.force(true);
        } catch (IOException e) {
            // A full disk must not leave a partial line that blocks every later append.
            try {
                log.truncate(size);
                log.force(true);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    private interface Locked<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code body} holding the lock file: exclusively for writers, shared for readers. A reader
     * that finds no lock file (no append ever ran) or may not open it reads without the lock.
     */
    private <T> T underLock(boolean exclusive, Locked<T> body) throws IOException {
        if (exclusive) {
            createFile(lockFile);
        } else if (!Files.isReadable(lockFile)) {
            return body.run();
        }
        Object key = Files.readAttributes(lockFile, BasicFileAttributes.class).fileKey();
        ReentrantLock mutex =
                IN_PROCESS.computeIfAbsent(key != null ? key : lockFile.toRealPath(), k -> new ReentrantLock());
        mutex.lock();
        try (FileChannel channel = exclusive ? FileChannel.open(lockFile, READ, WRITE) : openForReading(lockFile)) {
            if (channel == null) {
                return body.run();
            }
            FileLock held = channel.lock(0, Long.MAX_VALUE, !exclusive);
            try {
                return body.run();
            } finally {
                held.release();
            }
        } finally {
            mutex.unlock();
        }
    }

    private static FileChannel openForReading(Path lockFile) throws IOException {
        try {
            return FileChannel.open(lockFile, READ);
        } catch (AccessDeniedException e) {
            return null;
        }
    }

    /** Creates {@code path} (and its folder) with mode 0640 unless it exists; fsyncs the folder. */
    private static void createFile(Path path) throws IOException {
        if (Files.exists(path)) {
            return;
        }
        Path folder = path.getParent();
        if (!Files.isDirectory(folder)) {
            Files.createDirectories(folder, PosixFilePermissions.asFileAttribute(FOLDER_MODE));
            Files.setPosixFilePermissions(folder, FOLDER_MODE); // whatever the umask
        }
        try {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(FILE_MODE));
        } catch (FileAlreadyExistsException e) {
            return; // another process was first
        }
        Files.setPosixFilePermissions(path, FILE_MODE);
        try (FileChannel dir = FileChannel.open(folder, READ)) {
            dir.force(true); // the new name survives a crash too
        }
    }

    private static String describe(IOException e) {
        if (e instanceof AccessDeniedException a) {
            return "permission denied on " + a.getFile();
        }
        if (e instanceof NoSuchFileException n) {
            return n.getFile() + " does not exist";
        }
        if (e instanceof FileAlreadyExistsException x) {
            return x.getFile() + " exists and is not a folder";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
