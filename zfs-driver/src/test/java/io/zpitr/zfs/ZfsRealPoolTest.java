package io.zpitr.zfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The driver against a real zfs-fuse pool: every ZFS behaviour zpitr relies on, observed. */
class ZfsRealPoolTest {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.create();

    @RegisterExtension
    static final ZfsPool SECOND_POOL = ZfsPool.create();

    /** Records every argv the driver starts, to prove what never reached a process. */
    static final class RecordingRunner extends ProcessRunner {
        final List<List<String>> started = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public ProcessResult run(Command command) {
            started.add(command.argv());
            return super.run(command);
        }
    }

    static final RecordingRunner RUNNER = new RecordingRunner();
    static Zfs zfs;
    static final AtomicInteger SEQ = new AtomicInteger();

    @BeforeAll
    static void detect() {
        zfs = Zfs.detect(RUNNER, "zfs");
    }

    /** A fresh parent dataset per test, so tests don't see each other's snapshots. */
    private static DatasetName fresh() {
        DatasetName d = DatasetName.of(POOL.name()).child("t" + SEQ.incrementAndGet());
        zfs.create(d, Map.of(), false);
        return d;
    }

    private static Path mounted(DatasetName d) {
        return Path.of(zfs.get(d, "mountpoint").orElseThrow());
    }

    @Test
    void detectsZfsFuse() {
        assertEquals(ZfsDialect.ZFS_FUSE, zfs.dialect());
    }

    @Test
    void atomicSnapshotOfTwoDatasetsHasOneNameOnBoth() throws IOException {
        DatasetName parent = fresh();
        DatasetName data = parent.child("data");
        DatasetName tblspc = parent.child("tblspc1");
        zfs.create(data, Map.of(), false);
        zfs.create(tblspc, Map.of(), false);

        SnapshotSetResult set =
                zfs.snapshotSet(List.of(data, tblspc), "zpitr-s1", Map.of("zpitr:redo_lsn", "0/3000028"));

        assertEquals(SnapshotSetResult.Atomicity.ATOMIC, set.atomicity());
        assertEquals(List.of(data.snapshot("zpitr-s1"), tblspc.snapshot("zpitr-s1")), set.snapshots());
        assertTrue(set.method().contains("recursive snapshot of " + parent), set.method());
        List<String> names = zfs.listSnapshots(parent, true, List.of()).stream()
                .map(ZfsEntry::name)
                .sorted()
                .toList();
        assertEquals(
                List.of(data + "@zpitr-s1", tblspc + "@zpitr-s1"),
                names,
                "both datasets have the snapshot and the parent's extra one is gone");
        for (SnapshotName s : set.snapshots()) {
            assertEquals("0/3000028", zfs.get(s, "zpitr:redo_lsn").orElseThrow());
        }
        // Both snapshots come from one transaction group: they share their creation second.
        List<ZfsEntry> listed = zfs.listSnapshots(parent, true, List.of("creation"));
        assertEquals(listed.get(0).longProperty("creation"), listed.get(1).longProperty("creation"));
    }

    @Test
    void datasetsWithAStrangerBesideThemAreSnapshottedInOrderAndSaySo() {
        DatasetName parent = fresh();
        DatasetName data = parent.child("data");
        DatasetName other = parent.child("other");
        DatasetName stranger = parent.child("restore");
        for (DatasetName d : List.of(data, other, stranger)) {
            zfs.create(d, Map.of(), false);
        }
        SnapshotSetResult set = zfs.snapshotSet(List.of(data, other), "zpitr-s2", Map.of("zpitr:kind", "ordered"));
        assertEquals(SnapshotSetResult.Atomicity.ORDERED, set.atomicity());
        assertTrue(zfs.exists(data.snapshot("zpitr-s2")));
        assertTrue(zfs.exists(other.snapshot("zpitr-s2")));
        assertFalse(zfs.exists(stranger.snapshot("zpitr-s2")), "a dataset outside the set is not snapshotted");
        List<ZfsEntry> snaps = zfs.listSnapshots(parent, true, List.of("creation"));
        assertEquals(2, snaps.size());
    }

    @Test
    void aFailedOrderedSnapshotLeavesNoneBehind() {
        DatasetName parent = fresh();
        DatasetName a = parent.child("a");
        DatasetName b = parent.child("b");
        DatasetName c = parent.child("c");
        for (DatasetName d : List.of(a, b, c)) {
            zfs.create(d, Map.of(), false);
        }
        zfs.snapshotSet(List.of(b), "zpitr-s3", Map.of());
        assertThrows(
                ZfsException.DatasetExistsException.class, () -> zfs.snapshotSet(List.of(a, b), "zpitr-s3", Map.of()));
        assertFalse(zfs.exists(a.snapshot("zpitr-s3")), "the first snapshot was undone");
    }

    @Test
    void cloneHoldsTheSnapshotsFilesAndIsIndependentOfLaterWrites() throws IOException {
        DatasetName origin = fresh();
        Path file = mounted(origin).resolve("PG_VERSION");
        Files.writeString(file, "15\n");
        zfs.snapshotSet(List.of(origin), "zpitr-c1", Map.of());

        Files.writeString(file, "16\n");
        Files.writeString(mounted(origin).resolve("later"), "x");
        DatasetName clone = DatasetName.of(POOL.name()).child("clone" + SEQ.incrementAndGet());
        Path where = POOL.mountpoint().resolve("restores").resolve(clone.leaf());
        zfs.clone(origin.snapshot("zpitr-c1"), clone, where, Map.of("zpitr:restore", "r1"));

        assertEquals(where.toString(), zfs.get(clone, "mountpoint").orElseThrow());
        assertEquals("15\n", Files.readString(where.resolve("PG_VERSION")));
        assertFalse(Files.exists(where.resolve("later")));
        Files.writeString(where.resolve("PG_VERSION"), "clone\n");
        assertEquals("16\n", Files.readString(file), "writing to the clone does not touch the origin");
        assertEquals(origin + "@zpitr-c1", zfs.get(clone, "origin").orElseThrow());
        assertEquals("r1", zfs.get(clone, "zpitr:restore").orElseThrow());

        ZfsException.DependentClonesException e = assertThrows(
                ZfsException.DependentClonesException.class, () -> zfs.destroy(origin.snapshot("zpitr-c1")));
        assertEquals(List.of(clone.full()), e.clones());
        zfs.destroy(clone, false);
        assertFalse(Files.exists(where.resolve("PG_VERSION")));
        zfs.destroy(origin.snapshot("zpitr-c1"));
        assertFalse(zfs.exists(origin.snapshot("zpitr-c1")));
    }

    @Test
    void aHeldSnapshotCannotBeDestroyedUntilReleased() {
        DatasetName d = fresh();
        SnapshotName s = d.snapshot("zpitr-h1");
        zfs.snapshotSet(List.of(d), s.shortName(), Map.of());
        HoldTag tag = HoldTag.of("legal-2026");

        zfs.hold(s, tag);
        zfs.hold(s, tag); // idempotent
        assertEquals(1, zfs.holdCount(s));
        ZfsException.SnapshotHeldException e =
                assertThrows(ZfsException.SnapshotHeldException.class, () -> zfs.destroy(s));
        assertTrue(e.getMessage().contains(s.full()), e.getMessage());
        assertTrue(zfs.exists(s));
        assertThrows(ZfsException.FeatureUnavailableException.class, () -> zfs.holds(s));

        zfs.release(s, tag);
        zfs.release(s, tag); // idempotent
        assertEquals(0, zfs.holdCount(s));
        zfs.destroy(s);
        assertFalse(zfs.exists(s));
    }

    @Test
    void userPropertiesRoundTrip() {
        DatasetName d = fresh();
        SnapshotName s = d.snapshot("zpitr-p1");
        zfs.snapshotSet(List.of(d), s.shortName(), Map.of("zpitr:timeline", "1"));
        String awkward = "2026-11-20 04:01:00.123456+08 {\"a\": [1, 2]} ; $(id) 'q' é";
        zfs.setUserProperty(s, "zpitr:commit_time", awkward);
        assertEquals(awkward, zfs.get(s, "zpitr:commit_time").orElseThrow());
        assertEquals("1", zfs.get(s, "zpitr:timeline").orElseThrow());
        assertTrue(zfs.get(s, "zpitr:absent").isEmpty());
        ZfsEntry listed = zfs.listSnapshots(d, false, List.of("zpitr:commit_time", "zpitr:absent", "creation")).stream()
                .filter(x -> x.name().equals(s.full()))
                .findFirst()
                .orElseThrow();
        assertEquals(awkward, listed.property("zpitr:commit_time").orElseThrow());
        assertTrue(listed.property("zpitr:absent").isEmpty());
        assertTrue(listed.longProperty("creation") > 1_700_000_000L, "creation is exact epoch seconds");
        zfs.clearUserProperty(s, "zpitr:commit_time");
        assertTrue(zfs.get(s, "zpitr:commit_time").isEmpty());
    }

    @Test
    void listingIsOneProcessForManySnapshots() {
        DatasetName d = fresh();
        for (int i = 0; i < 20; i++) {
            zfs.snapshotSet(List.of(d), "zpitr-n" + i, Map.of("zpitr:n", Integer.toString(i)));
        }
        int before = RUNNER.started.size();
        List<ZfsEntry> snaps = zfs.listSnapshots(d, true, List.of("creation", "used", "userrefs", "zpitr:n"));
        assertEquals(1, RUNNER.started.size() - before);
        assertEquals(20, snaps.size());
        assertEquals(Set.of(0L), Set.of(snaps.get(0).longProperty("userrefs")));
    }

    @Test
    void missingDatasetIsTyped() {
        DatasetName nope = DatasetName.of(POOL.name()).child("nope");
        assertThrows(ZfsException.NoSuchDatasetException.class, () -> zfs.listSnapshots(nope, true, List.of()));
        assertThrows(ZfsException.NoSuchDatasetException.class, () -> zfs.destroy(nope, false));
        assertFalse(zfs.exists(nope));
    }

    @Test
    void hostileNamesNeverReachAProcess() {
        int before = RUNNER.started.size();
        for (String hostile : List.of(
                POOL.name() + "/a;touch /tmp/zpitr-pwned",
                POOL.name() + "/$(reboot)",
                POOL.name() + "/../etc",
                POOL.name() + "/a b",
                POOL.name() + "//x",
                "-o")) {
            assertThrows(InvalidNameException.class, () -> zfs.create(DatasetName.of(hostile), Map.of(), false));
        }
        DatasetName ok = DatasetName.of(POOL.name());
        assertThrows(InvalidNameException.class, () -> zfs.snapshotSet(List.of(ok), "s;id", Map.of()));
        assertThrows(InvalidNameException.class, () -> zfs.snapshotSet(List.of(ok), "s1", Map.of("bad", "x")));
        assertThrows(
                IllegalArgumentException.class, () -> zfs.snapshotSet(List.of(ok), "s1", Map.of("zpitr:x", "a\nb")));
        assertThrows(InvalidNameException.class, () -> zfs.hold(ok.snapshot("s1"), HoldTag.of("-r")));
        assertThrows(
                IllegalArgumentException.class,
                () -> zfs.clone(ok.snapshot("s1"), ok.child("c"), Path.of("/tmp/../etc"), Map.of()));
        assertEquals(before, RUNNER.started.size(), "no process was started for a refused name");
        assertFalse(Files.exists(Path.of("/tmp/zpitr-pwned")));
    }

    @Test
    void rollbackRestoresTheSnapshotsFiles() throws IOException {
        DatasetName d = fresh();
        Path f = mounted(d).resolve("f");
        Files.writeString(f, "before");
        zfs.snapshotSet(List.of(d), "zpitr-r1", Map.of());
        Files.writeString(f, "after");
        zfs.rollback(d.snapshot("zpitr-r1"), false);
        assertEquals("before", Files.readString(f));
    }

    @Test
    void sendThenReceiveIntoASecondPoolReproducesTheFiles() throws IOException {
        DatasetName d = fresh();
        byte[] payload = new byte[3 << 20];
        new Random(42).nextBytes(payload);
        Files.write(mounted(d).resolve("base.bin"), payload);
        zfs.snapshotSet(List.of(d), "zpitr-x1", Map.of());
        DatasetName target = DatasetName.of(SECOND_POOL.name()).child("copy");

        zfs.sendTo(d.snapshot("zpitr-x1"), null, zfs, target, false);
        Path copied = mounted(target);
        assertArrayEquals(payload, Files.readAllBytes(copied.resolve("base.bin")));

        Files.writeString(mounted(d).resolve("incr.txt"), "second");
        zfs.snapshotSet(List.of(d), "zpitr-x2", Map.of());
        zfs.sendTo(d.snapshot("zpitr-x2"), d.snapshot("zpitr-x1"), zfs, target, true);
        assertEquals("second", Files.readString(copied.resolve("incr.txt")));
        assertArrayEquals(payload, Files.readAllBytes(copied.resolve("base.bin")));
        assertTrue(zfs.exists(target.snapshot("zpitr-x2")));
    }

    @Test
    void anIncrementalFromAMissingBaseFailsWithTheSendersError() {
        DatasetName d = fresh();
        zfs.snapshotSet(List.of(d), "zpitr-y2", Map.of());
        DatasetName target = DatasetName.of(SECOND_POOL.name()).child("copy-y");
        ZfsException e = assertThrows(
                ZfsException.class,
                () -> zfs.sendTo(d.snapshot("zpitr-y2"), d.snapshot("zpitr-never"), zfs, target, false));
        assertInstanceOf(ZfsException.NoSuchDatasetException.class, e, e.getMessage());
        assertFalse(zfs.exists(target));
    }
}
