// The sandbox's file-backed ZFS pool on the machine's zfs-fuse daemon.
package io.zpitr.appliance.demo;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Creates and destroys the sandbox pool. zfs-fuse serves every pool of the machine from one
 * daemon: the demo starts it when none answers and records that, so that --clean stops only a
 * daemon the demo started and only when no other pool is left on it.
 */
final class DemoPool {
    private static final Path ZFS_FUSE_PID = Path.of("/run/zfs-fuse.pid");
    private static final Duration BUSY_RETRY = Duration.ofSeconds(30);

    private final ProcessRunner runner;
    private final SandboxLayout layout;

    DemoPool(ProcessRunner runner, SandboxLayout layout) {
        this.runner = runner;
        this.layout = layout;
    }

    /** Starts the zfs-fuse daemon unless one answers; true if this call started it. */
    boolean ensureDaemon() {
        if (daemonAnswers()) {
            return false;
        }
        try {
            Files.deleteIfExists(ZFS_FUSE_PID); // a stale pid file makes zfs-fuse exit 1 silently
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the stale " + ZFS_FUSE_PID, e);
        }
        runner.run(Command.of("zfs-fuse", "-p", ZFS_FUSE_PID.toString())).requireSuccess();
        Deadline.await(
                "the zfs-fuse daemon to answer 'zpool list'",
                Duration.ofSeconds(30),
                this::daemonAnswers,
                () -> "HINT: is /dev/fuse there? zfs-fuse needs FUSE (modprobe fuse, or a container with /dev/fuse)");
        return true;
    }

    boolean daemonAnswers() {
        return runner.run(Command.of("zpool", "list", "-H")).succeeded();
    }

    boolean exists() {
        return runner.run(Command.of("zpool", "list", "-H", "-o", "name"))
                .stdoutLines()
                .contains(layout.pool());
    }

    /** A sparse file of {@code bytes} and a pool on it, mounted at the sandbox's mnt folder. */
    void create(long bytes) {
        Path image = layout.poolImage();
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the pool file " + image, e);
        }
        runner.run(Command.of("zpool", "create", "-m", layout.mnt().toString(), layout.pool(), image.toString()))
                .requireSuccess();
    }

    /** Destroys the pool (its clones and held snapshots too); retries zfs-fuse's passing "busy". */
    void destroy() {
        if (!exists()) {
            return;
        }
        long deadline = System.nanoTime() + BUSY_RETRY.toNanos();
        ProcessResult r = runner.run(Command.of("zpool", "destroy", "-f", layout.pool()));
        while (!r.succeeded() && r.stderr().contains("busy") && System.nanoTime() < deadline) {
            Deadline.pause(250);
            r = runner.run(Command.of("zpool", "destroy", "-f", layout.pool()));
        }
        if (!r.succeeded()) {
            throw ZpitrError.FAILED.exception("cannot destroy pool " + layout.pool() + ": "
                    + r.stderr().strip() + "\nHINT: is a shell or a process still inside " + layout.mnt()
                    + "? (fuser -vm " + layout.mnt() + ")");
        }
    }

    /**
     * Destroys the pool of the earlier ZFS-only demo if its backing file is this sandbox's pool
     * file; returns whether there was one.
     */
    boolean destroyEarlierTourPool() {
        ProcessResult status = runner.run(Command.of("zpool", "status", SandboxLayout.EARLIER_POOL));
        if (!status.succeeded() || !status.stdout().contains(layout.poolImage().toString())) {
            return false;
        }
        runner.run(Command.of("zpool", "destroy", "-f", SandboxLayout.EARLIER_POOL))
                .requireSuccess();
        return true;
    }

    /** Stops the zfs-fuse daemon (SIGTERM unmounts cleanly) if no pool is left on it; true if it stopped it. */
    boolean stopDaemonIfUnused() {
        ProcessResult pools = runner.run(Command.of("zpool", "list", "-H", "-o", "name"));
        if (!pools.succeeded() || !pools.stdoutLines().isEmpty()) {
            return false;
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readString(ZFS_FUSE_PID).strip());
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        var handle = ProcessHandle.of(pid)
                .filter(h -> h.info().command().map(c -> c.endsWith("zfs-fuse")).orElse(false));
        if (handle.isEmpty()) {
            return false;
        }
        handle.get().destroy();
        Deadline.await(
                "the zfs-fuse daemon " + pid + " to exit",
                Duration.ofSeconds(30),
                () -> !handle.get().isAlive(),
                () -> "");
        return true;
    }
}
