// Where a restore's own pg_wal may go off the clone: only where PostgreSQL can reach it.
package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.zfs.DatasetName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestoreWalHomeTest {
    @TempDir
    Path tmp;

    @Test
    void aFolderEveryoneMayPassThroughIsUsedAndMadeEnterable() throws IOException {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dir = tmp.resolve("state/restore-wal");
        Files.createDirectories(dir.getParent());
        Files.setPosixFilePermissions(dir.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        // (the machine's temporary folder is on a local file system, not ZFS)
        assertTrue(RestoreClones.reachableOffZfs(dir, "nobody-zpitr-test"));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    @Test
    void aStateDirOthersMayNotEnterKeepsTheWalInTheClone() throws IOException {
        Path state = Files.createDirectories(tmp.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
        assertFalse(RestoreClones.reachableOffZfs(state.resolve("restore-wal"), "nobody-zpitr-test"));
    }

    @Test
    void aFolderThatCannotBeMadeKeepsTheWalInTheClone() throws IOException {
        Path file = Files.writeString(tmp.resolve("state"), "a file, not a folder");
        assertFalse(RestoreClones.reachableOffZfs(file.resolve("restore-wal"), "nobody-zpitr-test"));
    }

    @Test
    void removingItFollowsNoLinkPlantedInIt() throws IOException {
        Path victim = Files.writeString(tmp.resolve("victim"), "not the restore's");
        Path victimDir = Files.createDirectories(tmp.resolve("victim-dir"));
        Files.writeString(victimDir.resolve("kept"), "not the restore's either");
        Path home = Files.createDirectories(tmp.resolve("restore-wal/tank%restore%r1"));
        Path wal = Files.createDirectories(home.resolve("pg_wal/archive_status"));
        Files.writeString(wal.resolveSibling("000000010000000000000003"), "a segment");
        Files.createSymbolicLink(wal.resolveSibling("link"), victim);
        Files.createSymbolicLink(home.resolve("dir-link"), victimDir);
        RestoreClones.removeOwnWal(new io.zpitr.process.ProcessRunner(), System.getProperty("user.name"), home);
        assertFalse(Files.exists(home, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the restore's folder is gone");
        assertEquals("not the restore's", Files.readString(victim));
        assertEquals("not the restore's either", Files.readString(victimDir.resolve("kept")));
        RestoreClones.removeOwnWal(new io.zpitr.process.ProcessRunner(), System.getProperty("user.name"), home);
    }

    @Test
    void eachRestoreDatasetHasAFolderOfItsOwn() {
        RestoreSettings a = settings("tank/restore");
        RestoreSettings b = settings("tank/replica/restore");
        assertEquals(Path.of("/var/lib/zpitr/restore-wal/tank%restore%r1"), a.walHomeOf("r1"));
        assertEquals(Path.of("/var/lib/zpitr/restore-wal/tank%replica%restore%r1"), b.walHomeOf("r1"));
    }

    private static RestoreSettings settings(String datasetRoot) {
        return new RestoreSettings(
                "postgres",
                Path.of("/usr/lib/postgresql/15/bin"),
                Path.of("/tank/pg/data/pgdata"),
                DatasetName.of(datasetRoot),
                Path.of("/tank/restore"),
                6432,
                "postgres",
                Path.of("/var/lib/zpitr/restore-wal"));
    }
}
