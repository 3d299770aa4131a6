// Proves AtomicLanding on real files: the bytes land whole, and a failure leaves nothing behind.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicLandingTest {
    @TempDir
    Path dataDir;

    private Path pgWal;
    private Path destination;

    @BeforeEach
    void createPgWal() throws IOException {
        pgWal = Files.createDirectory(dataDir.resolve("pg_wal"));
        destination = pgWal.resolve("RECOVERYXLOG");
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static List<String> namesIn(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void createsAnEmptyOwnerOnlyTempFileBesideTheDestination() throws IOException {
        Path temp = AtomicLanding.tempFileBeside(destination);
        assertEquals(pgWal, temp.getParent());
        assertTrue(temp.getFileName().toString().matches("\\.zpitr-[0-9a-f]{16}\\.tmp"), temp.toString());
        assertEquals(0, Files.size(temp));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(temp)));
        assertFalse(Files.exists(destination));
    }

    @Test
    void givesEveryCallItsOwnTempFile() throws IOException {
        Path first = AtomicLanding.tempFileBeside(destination);
        Path second = AtomicLanding.tempFileBeside(destination);
        assertNotEquals(first, second);
        assertEquals(2, namesIn(pgWal).size());
    }

    @Test
    void worksWithARelativeDestinationAsPostgresPassesIt() throws IOException {
        // %p is relative to the data directory, restore_command's working directory.
        Path relative = Path.of("").toAbsolutePath().relativize(destination);
        Path temp = AtomicLanding.tempFileBeside(relative);
        Files.write(temp, new byte[] {1, 2, 3});
        AtomicLanding.land(temp, relative);
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(destination));
    }

    @Test
    void landsTheBytesAndLeavesNothingElse() throws IOException {
        byte[] content = randomBytes(16 * 1024 * 1024, 1);
        Path temp = AtomicLanding.tempFileBeside(destination);
        Files.write(temp, content);

        AtomicLanding.land(temp, destination);

        assertArrayEquals(content, Files.readAllBytes(destination));
        assertEquals(List.of("RECOVERYXLOG"), namesIn(pgWal));
    }

    @Test
    void replacesAFileFromAnEarlierFetch() throws IOException {
        Files.write(destination, randomBytes(1000, 2));
        byte[] content = randomBytes(500, 3);
        Path temp = AtomicLanding.tempFileBeside(destination);
        Files.write(temp, content);

        AtomicLanding.land(temp, destination);

        assertArrayEquals(content, Files.readAllBytes(destination));
        assertEquals(List.of("RECOVERYXLOG"), namesIn(pgWal));
    }

    @Test
    void refusesADestinationWhoseFolderDoesNotExist() throws IOException {
        Path nowhere = dataDir.resolve("pg_xlog").resolve("RECOVERYXLOG");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> AtomicLanding.tempFileBeside(nowhere));
        assertTrue(e.getMessage().contains("folder of destination '" + nowhere + "' does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("HINT: "), e.getMessage());
        assertEquals(List.of("pg_wal"), namesIn(dataDir));
    }

    @Test
    void aFailedRenameRemovesTheTempFileAndLeavesTheDestinationAlone() throws IOException {
        // A non-empty folder in the destination's place: rename(2) cannot replace it.
        Path inTheWay = Files.createDirectory(destination);
        Files.write(inTheWay.resolve("keep"), new byte[] {7});
        Path temp = AtomicLanding.tempFileBeside(destination);
        Files.write(temp, randomBytes(100, 4));

        assertThrows(IOException.class, () -> AtomicLanding.land(temp, destination));

        assertEquals(List.of("RECOVERYXLOG"), namesIn(pgWal));
        assertEquals(List.of("keep"), namesIn(inTheWay));
    }

    @Test
    void aDestinationFolderRemovedMeanwhileRemovesTheTempFileToo() throws IOException {
        Path temp = AtomicLanding.tempFileBeside(destination);
        Path otherDestination = dataDir.resolve("gone").resolve("RECOVERYXLOG");
        assertThrows(NoSuchFileException.class, () -> AtomicLanding.land(temp, otherDestination));
        assertFalse(Files.exists(temp));
        assertEquals(List.of(), namesIn(pgWal));
    }

    @Test
    void refusesATempFileInAnotherFolderWhereTheRenameWouldNotBeAtomic() throws IOException {
        Path elsewhere = Files.write(dataDir.resolve("download.tmp"), new byte[] {1});
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> AtomicLanding.land(elsewhere, destination));
        assertTrue(e.getMessage().contains("is not in the folder of"), e.getMessage());
        assertFalse(Files.exists(elsewhere));
        assertFalse(Files.exists(destination));
    }

    @Test
    void aMissingTempFileIsAnErrorThatLandsNothing() throws IOException {
        Path temp = AtomicLanding.tempFileBeside(destination);
        Files.delete(temp);
        assertThrows(NoSuchFileException.class, () -> AtomicLanding.land(temp, destination));
        assertEquals(List.of(), namesIn(pgWal));
    }
}
