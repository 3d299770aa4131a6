package io.zpitr.zfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.zpitr.process.ProcessResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The OpenZFS 2.x paths cannot run here (no kernel module), so they are checked against output in
 * OpenZFS's documented formats, recorded under src/test/resources/openzfs.
 */
class ParsingTest {
    private static String resource(String name) throws IOException {
        try (InputStream in = ParsingTest.class.getResourceAsStream("/openzfs/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static ProcessResult result(int exit, String stdout, String stderr, String... argv) {
        return new ProcessResult(List.of(argv), exit, stdout, stderr, false, Duration.ZERO);
    }

    @Test
    void openZfsListWithExactValues() throws IOException {
        List<ZfsEntry> entries = Zfs.parseList(
                resource("list-snapshots.txt"), List.of("creation", "used", "userrefs", "zpitr:redo_lsn"));
        assertEquals(3, entries.size());
        ZfsEntry first = entries.get(0);
        assertEquals("tank/pg/data@zpitr-20261120T040100Z", first.name());
        assertEquals("snapshot", first.type());
        assertEquals(1795147260L, first.longProperty("creation"));
        assertEquals(1376256L, first.longProperty("used"));
        assertEquals("0/3000028", first.property("zpitr:redo_lsn").orElseThrow());
        assertFalse(entries.get(2).property("zpitr:redo_lsn").isPresent(), "an unset user property is absent");
        assertEquals(1, entries.get(1).longProperty("userrefs"));
    }

    @Test
    void zfsGetRowsGroupByName() {
        String out = "t1/a\ttype\tfilesystem\t-\nt1/a\tzpitr:x\t-\t-\n"
                + "t1/a@s1\ttype\tsnapshot\t-\nt1/a@s1\tzpitr:x\t1\tlocal\nt1/a@s1\tcreation\t1795303216\t-\n";
        List<ZfsEntry> entries = Zfs.parseGet(out);
        assertEquals(2, entries.size());
        assertEquals("filesystem", entries.get(0).type());
        assertFalse(entries.get(0).property("zpitr:x").isPresent());
        assertEquals("1", entries.get(1).property("zpitr:x").orElseThrow());
        assertEquals(1795303216L, entries.get(1).longProperty("creation"));
    }

    @Test
    void openZfsHolds() throws IOException {
        List<Hold> holds = Zfs.parseHolds(resource("holds.txt"));
        assertEquals(2, holds.size());
        assertEquals("legal-2026", holds.get(0).tag());
        assertEquals(
                SnapshotName.parse("tank/pg/data@zpitr-20261120T040100Z"),
                holds.get(0).snapshot());
    }

    @Test
    void dialectFromVersionOutput() throws IOException {
        assertEquals(
                ZfsDialect.OPENZFS,
                ZfsDialect.fromVersionProbe(result(0, resource("version.txt"), "", "zfs", "version")));
        assertEquals(
                ZfsDialect.ZFS_FUSE,
                ZfsDialect.fromVersionProbe(result(
                        2, "", "unrecognized command 'version'\nusage: zfs command args ...\n", "zfs", "version")));
        assertThrows(
                ZfsException.class,
                () -> ZfsDialect.fromVersionProbe(result(127, "", "zfs: not found", "zfs", "version")));
    }

    @Test
    void knownMessagesBecomeTypedErrors() {
        assertInstanceOf(
                ZfsException.NoSuchDatasetException.class,
                ZfsErrors.classify(result(
                        1,
                        "",
                        "cannot open 'tank/nope': dataset does not exist\n",
                        "zfs",
                        "get",
                        "type",
                        "tank/nope")));
        assertInstanceOf(
                ZfsException.NoSuchDatasetException.class,
                ZfsErrors.classify(result(
                        1,
                        "",
                        "could not find any snapshots to destroy; check snapshot names.\n",
                        "zfs",
                        "destroy",
                        "tank@x")));
        assertInstanceOf(
                ZfsException.DatasetExistsException.class,
                ZfsErrors.classify(result(
                        1, "", "cannot create snapshots : dataset already exists\n", "zfs", "snapshot", "a@s", "b@s")));
        ZfsException clones = ZfsErrors.classify(result(
                1,
                "",
                "cannot destroy 't1/a@s1': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\nt1/c\nt1/d\n",
                "zfs",
                "destroy",
                "t1/a@s1"));
        assertEquals(List.of("t1/c", "t1/d"), ((ZfsException.DependentClonesException) clones).clones());
        assertInstanceOf(
                ZfsException.DatasetBusyException.class,
                ZfsErrors.classify(
                        result(1, "", "cannot destroy 't1/c': dataset is busy\n", "zfs", "destroy", "t1/c")));
        assertInstanceOf(
                ZfsException.DatasetHasChildrenException.class,
                ZfsErrors.classify(result(
                        1,
                        "",
                        "cannot destroy 't1/a': filesystem has children\nuse '-r' to destroy the following datasets:\nt1/a/b\n",
                        "zfs",
                        "destroy",
                        "t1/a")));
        ZfsException other =
                ZfsErrors.classify(result(1, "", "cannot mount 't1/x': out of space\n", "zfs", "mount", "t1/x"));
        assertEquals(ZfsException.class, other.getClass());
        assertEquals(List.of("zfs", "mount", "t1/x"), other.argv());
        assertEquals(1, other.exitStatus());
        assertEquals("cannot mount 't1/x': out of space", other.stderr());
    }
}
