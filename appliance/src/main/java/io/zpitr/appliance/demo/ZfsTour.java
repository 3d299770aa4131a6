// The ZFS part of `zpitr demo`: a narrated run of snapshot, clone and hold on a throw-away pool.
package io.zpitr.appliance.demo;

import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.HoldTag;
import io.zpitr.zfs.SnapshotName;
import io.zpitr.zfs.SnapshotSetResult;
import io.zpitr.zfs.Zfs;
import io.zpitr.zfs.ZfsEntry;
import io.zpitr.zfs.ZfsException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * Builds a sandbox pool backed by a file under {@code dir}, shows each ZFS behaviour zpitr stands on,
 * and leaves the sandbox for inspection until {@link #clean()}. Everything it creates lives in the
 * pool {@value #POOL} and the folder {@code dir}.
 */
public final class ZfsTour {
    static final String POOL = "zpitrdemo";
    private static final Path ZFS_FUSE_PID = Path.of("/run/zfs-fuse.pid");

    private final Path dir;
    private final PrintWriter out;
    private final ProcessRunner runner = new ProcessRunner();

    public ZfsTour(Path dir, PrintWriter out) {
        if (!dir.isAbsolute() || !dir.normalize().equals(dir)) {
            throw new IllegalArgumentException("--dir must be an absolute path without . or ..: " + dir);
        }
        this.dir = dir;
        this.out = out;
    }

    /** Runs the tour; leaves the sandbox in place for a look around. */
    public void run() {
        step("1. ZFS", "zpitr talks to ZFS only through the zfs command, one validated argv at a time.");
        ensureZfs();
        Zfs zfs = Zfs.detect(runner, "zfs");
        say("The zfs command here is " + zfs.dialect() + "; zpitr adapts to its command-line dialect.");
        removePool();

        step("2. A sandbox pool", "A 256 MB pool backed by a sparse file stands in for the standby VM's disk.");
        Path image = dir.resolve("pool.img");
        Path mnt = dir.resolve("mnt");
        try {
            Files.createDirectories(dir);
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(256L << 20);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + image, e);
        }
        runner.run(Command.of("zpool", "create", "-m", mnt.toString(), POOL, image.toString())).requireSuccess();
        DatasetName pg = DatasetName.of(POOL).child("pg");
        DatasetName data = pg.child("data");
        DatasetName tblspc = pg.child("tblspc1");
        for (DatasetName d : List.of(pg, data, tblspc)) {
            zfs.create(d, Map.of(), false);
        }
        Path rows = mnt.resolve("pg/data/rows.txt");
        write(rows, "row 1, committed before the snapshot\n");
        write(mnt.resolve("pg/tblspc1/table.dat"), "tablespace data\n");
        say("Created " + data + " (PGDATA's stand-in) and " + tblspc + " (a tablespace), mounted under " + mnt + ".");

        step("3. One consistent snapshot of both datasets",
                "PostgreSQL's data directory and its tablespaces must be captured at the same instant.");
        String name = "zpitr-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC)
                .format(Instant.now()) + "-demo";
        long t0 = System.nanoTime();
        SnapshotSetResult set = zfs.snapshotSet(List.of(data, tblspc), name,
                Map.of("zpitr:label", "demo", "zpitr:note", "metadata travels with the snapshot"));
        say("Took " + set.snapshots() + " in " + millis(t0) + " ms: " + set.atomicity() + " (" + set.method() + ").");
        say("Metadata is stored on the snapshot itself as zpitr: user properties, so the pool is the catalog.");

        step("4. Writes after the snapshot", "The live data moves on; the snapshot does not.");
        append(rows, "row 2, committed after the snapshot\n");
        say("PGDATA now holds: " + read(rows).strip().replace("\n", " | "));

        step("5. A clone in O(1)", "A restore starts from a clone: nothing is copied, whatever the data size.");
        DatasetName restores = DatasetName.of(POOL).child("restore");
        zfs.create(restores, Map.of("canmount", "off"), false);
        DatasetName clone = restores.child("demo1");
        Path cloneMount = mnt.resolve("restore/demo1");
        t0 = System.nanoTime();
        zfs.clone(data.snapshot(name), clone, cloneMount, Map.of("zpitr:restore", "demo1"));
        say("Cloned " + data.snapshot(name) + " to " + clone + " at " + cloneMount + " in " + millis(t0) + " ms.");
        say("The clone holds: " + read(cloneMount.resolve("rows.txt")).strip());
        say("The live data still holds both rows; the clone is independent of it.");

        step("6. A legal hold", "An auditor's hold keeps a snapshot from any deletion, manual or by retention.");
        SnapshotName held = tblspc.snapshot(name);
        zfs.hold(held, HoldTag.of("legal-demo"));
        try {
            zfs.destroy(held);
            throw new IllegalStateException("a held snapshot was destroyed: " + held);
        } catch (ZfsException.SnapshotHeldException expected) {
            say("Destroying " + held + " was refused: " + expected.getMessage().lines().findFirst().orElse(""));
        }
        zfs.release(held, HoldTag.of("legal-demo"));
        say("Released the hold; holds now: " + zfs.holdCount(held) + ".");

        step("7. What is retained", "One zfs call lists every snapshot with exact values.");
        List<ZfsEntry> snaps = zfs.listSnapshots(pg, true, List.of("creation", "used", "userrefs", "zpitr:label"));
        int width = snaps.stream().mapToInt(e -> e.name().length()).max().orElse(8);
        String row = "    %-" + width + "s  %-19s  %9s  %5s  %s%n";
        out.printf(row, "SNAPSHOT", "CREATED (UTC)", "USED", "HOLDS", "LABEL");
        for (ZfsEntry e : snaps) {
            out.printf(row, e.name(),
                    DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC)
                            .format(Instant.ofEpochSecond(e.longProperty("creation"))),
                    humanBytes(e.longProperty("used")), e.longProperty("userrefs"), e.property("zpitr:label").orElse("-"));
        }

        step("Summary", "");
        say("Snapshot set: " + set.atomicity().toString().toLowerCase() + " across " + set.snapshots().size()
                + " datasets; clone: O(1); hold: enforced by ZFS itself.");
        say("Still to come in this demo: a PostgreSQL standby fed by zpitr wal-fetch from two archive hosts,");
        say("and zpitr restore --to-time replaying WAL onto such a clone.");
        say("The sandbox stays for a look around (zfs list -r " + POOL + "); remove it with: zpitr demo --clean");
        out.flush();
    }

    /** Destroys the sandbox pool and removes the folder; does nothing if there is none. */
    public void clean() {
        if (runner.run(Command.of("zpool", "list", "-H", "-o", "name")).stdoutLines().contains(POOL)) {
            removePool();
            say("Destroyed pool " + POOL + ".");
        }
        try {
            if (Files.exists(dir)) {
                try (var walk = Files.walk(dir)) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
                say("Removed " + dir + ".");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
        out.flush();
    }

    private void removePool() {
        if (!runner.run(Command.of("zpool", "list", "-H", "-o", "name")).stdoutLines().contains(POOL)) {
            return;
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        ProcessResult r;
        do {
            r = runner.run(Command.of("zpool", "destroy", "-f", POOL));
        } while (!r.succeeded() && r.stderr().contains("busy") && System.nanoTime() < deadline && pause());
        r.requireSuccess();
    }

    /** Installs zfs-fuse when the zfs command is missing, and starts its daemon when none answers. */
    private void ensureZfs() {
        if (!onPath("zfs")) {
            if (!"root".equals(System.getProperty("user.name"))) {
                throw new IllegalStateException("the zfs command is missing\nHINT: run as root so the demo can "
                        + "install zfs-fuse, or: apt-get install zfs-fuse");
            }
            say("Installing zfs-fuse (Debian's user-space ZFS)...");
            Map<String, String> env = new java.util.HashMap<>(System.getenv());
            env.put("DEBIAN_FRONTEND", "noninteractive");
            runner.run(Command.of("apt-get", "update", "-qq").environment(env).timeout(Duration.ofMinutes(10)))
                    .requireSuccess();
            runner.run(Command.of("apt-get", "install", "-y", "-qq", "zfs-fuse").environment(env)
                    .timeout(Duration.ofMinutes(10))).requireSuccess();
        }
        if (runner.run(Command.of("zpool", "list", "-H")).succeeded()) {
            return;
        }
        say("Starting the zfs-fuse daemon...");
        try {
            Files.deleteIfExists(ZFS_FUSE_PID);  // a stale pid file makes zfs-fuse exit 1 silently
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        runner.run(Command.of("zfs-fuse", "-p", ZFS_FUSE_PID.toString())).requireSuccess();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!runner.run(Command.of("zpool", "list", "-H")).succeeded()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("zfs-fuse started but 'zpool list' still fails after 30 s");
            }
            pause();
        }
    }

    private static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    private void step(String title, String why) {
        out.println();
        out.println("== " + title);
        if (!why.isEmpty()) {
            out.println("   " + why);
        }
        out.flush();
    }

    private void say(String line) {
        out.println("   " + line);
        out.flush();
    }

    private static String humanBytes(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format("%.1f %s", v, units[u]);
    }

    private static long millis(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static boolean pause() {
        try {
            Thread.sleep(200);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void write(Path p, String s) {
        try {
            Files.writeString(p, s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void append(Path p, String s) {
        try {
            Files.writeString(p, s, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
