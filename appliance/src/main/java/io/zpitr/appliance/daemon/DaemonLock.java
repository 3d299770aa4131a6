// One daemon per state_dir: an exclusive lock on <state_dir>/daemon.lock; its pid in <state_dir>/daemon.pid.
package io.zpitr.appliance.daemon;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.archive.AtomicLanding;
import io.zpitr.archive.Landing;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * Keeps a second daemon on the same {@code state_dir} from starting (two schedulers would take
 * every snapshot twice and fight over the state file). The lock is the operating system's, so it
 * dies with the process, however it ends. The pid goes to a separate file, {@value #PID_FILE}, for
 * {@code zpitr status} to read: POSIX locks belong to the process, and any close of a descriptor
 * of the locked file, even a reader's in the same JVM, would drop the lock. The pid file is
 * removed on a clean stop.
 */
public final class DaemonLock implements AutoCloseable {
    public static final String FILE_NAME = "daemon.lock";
    public static final String PID_FILE = "daemon.pid";

    private final Path file;
    private final Path pidFile;
    private final FileChannel channel;
    private final FileLock lock;

    private DaemonLock(Path file, Path pidFile, FileChannel channel, FileLock lock) {
        this.file = file;
        this.pidFile = pidFile;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock and writes this process's pid into it.
     *
     * @throws io.zpitr.appliance.error.ZpitrException {@code locked} when another daemon holds it
     */
    static DaemonLock acquire(Path stateDir) throws IOException {
        Files.createDirectories(stateDir);
        Path file = stateDir.resolve(FILE_NAME);
        FileChannel channel =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // this JVM runs a daemon on this state_dir already
        }
        if (lock == null) {
            channel.close();
            throw ZpitrError.LOCKED.exception(
                    "another zpitr daemon is running on state_dir " + stateDir + pidText(stateDir.resolve(PID_FILE))
                            + "\nHINT: stop it first (systemctl stop zpitr), or give this one its own config and state_dir");
        }
        Path pidFile = stateDir.resolve(PID_FILE);
        try {
            AtomicLanding.write(
                    pidFile,
                    (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII),
                    PosixFilePermissions.fromString("rw-r--r--"),
                    Landing.QUICK);
        } catch (IOException e) {
            lock.release();
            channel.close();
            throw e;
        }
        return new DaemonLock(file, pidFile, channel, lock);
    }

    private static String pidText(Path file) {
        return readPid(file).map(pid -> " (pid " + pid + ")").orElse("");
    }

    /**
     * The pid of the daemon running on {@code stateDir}, if one runs: the pid recorded in
     * {@value #PID_FILE}, when that process is alive and is a JVM. Reading never takes the lock, so it cannot
     * get in a starting daemon's way.
     */
    public static Optional<Long> runningPid(Path stateDir) {
        return readPid(stateDir.resolve(PID_FILE))
                .filter(pid -> ProcessHandle.of(pid)
                        .filter(ProcessHandle::isAlive)
                        .map(h -> h.info()
                                .command()
                                .map(c -> c.endsWith("/java") || c.endsWith("java"))
                                .orElse(true))
                        .orElse(false));
    }

    private static Optional<Long> readPid(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
            return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Removes the pid file and releases the lock. */
    @Override
    public void close() throws IOException {
        try {
            Files.deleteIfExists(pidFile);
            lock.release();
        } finally {
            channel.close();
        }
    }

    @Override
    public String toString() {
        return file.toString();
    }
}
