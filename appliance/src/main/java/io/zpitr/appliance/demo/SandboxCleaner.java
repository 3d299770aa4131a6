// `zpitr demo --clean`: stops everything a sandbox started, destroys its pool and removes its folder.
package io.zpitr.appliance.demo;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.wal.PrefetcherProcess;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Everything is found again from the folder alone: PostgreSQL by the postmasters whose data
 * directory lies below it, the WAL prefetchers by the pid in their spool's lock file and by their
 * command line naming the sandbox config, sshd by its pid file, and — last resort — any process
 * whose command line names the folder. Only then the pool is destroyed and the folder removed.
 * A folder without the sandbox marker is never touched.
 */
final class SandboxCleaner {
    private static final Duration GRACE = Duration.ofSeconds(10);

    private final ProcessRunner runner;
    private final SandboxLayout layout;
    private final Narration narration;

    SandboxCleaner(ProcessRunner runner, SandboxLayout layout, Narration narration) {
        this.runner = runner;
        this.layout = layout;
        this.narration = narration;
    }

    /** Whether there is anything of a sandbox at the layout's folder or pool. */
    boolean present() {
        return Files.exists(layout.dir(), LinkOption.NOFOLLOW_LINKS)
                || (zfsInstalled() && new DemoPool(runner, layout).exists());
    }

    /**
     * Removes the sandbox.
     *
     * @param stopZfsFuse whether to stop a zfs-fuse daemon the sandbox started (not when a new sandbox follows)
     * @return whether the sandbox had started zfs-fuse
     * @throws IllegalArgumentException when the folder is not a sandbox
     */
    boolean clean(boolean stopZfsFuse) throws IOException {
        Path dir = layout.dir();
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)
                && !Files.exists(layout.marker())
                && !onlyEarlierTourFiles(dir)) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    dir + " is not a zpitr demo sandbox (it has no " + SandboxLayout.MARKER
                            + " file); refusing to remove it\nHINT: pass the --dir the demo was run with");
        }
        boolean startedZfsFuse = Files.exists(layout.startedZfsFuse());

        Set<Path> dataDirs = new LinkedHashSet<>(DemoCluster.runningBelow(dir));
        dataDirs.add(layout.standbyData());
        dataDirs.add(layout.primaryHome().resolve("data"));
        for (Path data : dataDirs) {
            if (DemoCluster.stop(runner, data)) {
                narration.say("Stopped PostgreSQL in " + data + ".");
            }
        }

        for (ProcessHandle prefetcher : prefetchers()) {
            ProcessTrees.stop(prefetcher, GRACE);
            narration.say("Stopped the WAL prefetcher (pid " + prefetcher.pid() + ").");
        }

        Path hosts = dir.resolve("hosts");
        if (Files.isDirectory(hosts, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> each = Files.newDirectoryStream(hosts)) {
                for (Path host : each) {
                    if (ArchiveHost.stop(host)) {
                        narration.say("Stopped archive host " + host.getFileName() + " (sshd).");
                    }
                }
            }
        }

        // Whatever else still names the sandbox: a hung wal-fetch, a session of an archive host.
        for (ProcessHandle left : ProcessTrees.mentioning(dir + "/")) {
            String what = left.info().commandLine().orElse("");
            if (ProcessTrees.alive(left.pid())) { // or it ended by itself (its parent was stopped above)
                ProcessTrees.stop(left, GRACE);
                narration.say("Stopped pid " + left.pid() + (what.isEmpty() ? "" : ": " + shorten(what)));
            }
        }

        if (zfsInstalled()) {
            DemoPool pool = new DemoPool(runner, layout);
            if (!pool.daemonAnswers() && Files.exists(layout.poolImage())) {
                pool.ensureDaemon(); // after a reboot: the pool comes back from zpool.cache, to be destroyed
            }
            if (pool.exists()) {
                pool.destroy();
                narration.say("Destroyed pool " + layout.pool() + " (its snapshots, holds and clones with it).");
            }
            if (pool.destroyEarlierTourPool()) {
                narration.say("Destroyed pool " + SandboxLayout.EARLIER_POOL + " of an earlier version of the demo.");
            }
            if (stopZfsFuse && startedZfsFuse && pool.stopDaemonIfUnused()) {
                narration.say("Stopped the zfs-fuse daemon the demo had started.");
            }
        }

        removeLauncherLinks();
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            deleteTree(dir);
            narration.say("Removed " + dir + ".");
        }
        return startedZfsFuse;
    }

    /**
     * Prefetchers of the sandbox config: the standby spool's, by the pid in its lock file, and any
     * other (a restore's, whose spool is in its clone) by command line.
     */
    private List<ProcessHandle> prefetchers() {
        Set<Long> pids = new LinkedHashSet<>();
        List<ProcessHandle> found = new ArrayList<>();
        PrefetcherProcess.running(layout.spool()).filter(h -> pids.add(h.pid())).ifPresent(found::add);
        for (String command : List.of(" wal-prefetch", " wal-fetch ")) {
            for (ProcessHandle h : ProcessTrees.mentioning(layout.config() + command)) {
                if (pids.add(h.pid())) {
                    found.add(h);
                }
            }
        }
        return found;
    }

    /**
     * wal-fetch (as postgres) publishes the spool for the launcher's fast path as a link
     * {@code /tmp/zpitr-<uid>/spool<config path, '/' as '%'>}; the sandbox's goes with it.
     */
    private void removeLauncherLinks() throws IOException {
        String name = "spool" + layout.config().toString().replace('/', '%');
        try (DirectoryStream<Path> tmp = Files.newDirectoryStream(Path.of("/tmp"), "zpitr-*")) {
            for (Path folder : tmp) {
                Path link = folder.resolve(name);
                if (Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS) && Files.isSymbolicLink(link)) {
                    Files.delete(link);
                }
            }
        }
    }

    private static boolean zfsInstalled() {
        return Files.isExecutable(Path.of("/usr/sbin/zpool")) || Files.isExecutable(Path.of("/sbin/zpool"));
    }

    /** Empty, or what the ZFS-only demo of earlier versions left (a pool file and its mountpoint), which had no marker. */
    private static boolean onlyEarlierTourFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.allMatch(
                    p -> Set.of("pool.img", "mnt").contains(p.getFileName().toString()));
        }
    }

    /** Bottom-up, never following a link (pg_wal and tablespace links point elsewhere). */
    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot remove " + root + ": " + e.getMessage()
                            + "\nHINT: is something still mounted or running in there? (findmnt -R " + root + ")",
                    e);
        }
    }

    private static String shorten(String text) {
        return text.length() <= 120 ? text : text.substring(0, 117) + "...";
    }
}
