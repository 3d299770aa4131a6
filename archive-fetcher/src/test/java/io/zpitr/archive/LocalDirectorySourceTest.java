// Proves LocalDirectorySource on real folders: where it looks, in which order, and missing versus failed.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalDirectorySourceTest {
    private static final WalFileName SEGMENT = WalFileName.of("000000010000000000000003");

    @TempDir
    Path root;

    private Path arch;
    private LocalDirectorySource source;

    @BeforeEach
    void createArchiveFolder() throws IOException {
        arch = Files.createDirectory(root.resolve("arch"));
        source = new LocalDirectorySource("nfs", arch);
    }

    private static Path write(Path file, byte[] content) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, content);
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void findsAFileDirectlyInTheFolder() throws Exception {
        Path file = write(arch.resolve(SEGMENT.name()), randomBytes(1234, 1));
        assertEquals(List.of(new WalCopy("nfs", file.toString(), 1234)), source.find(SEGMENT));
    }

    @Test
    void looksInTheFolderFirstThenInDatedFoldersNewestNamedFirst() throws Exception {
        Path older = write(arch.resolve("20261119").resolve(SEGMENT.name()), new byte[10]);
        Path top = write(arch.resolve(SEGMENT.name()), new byte[20]);
        Path newest = write(arch.resolve("20261121").resolve(SEGMENT.name()), new byte[30]);
        Files.createDirectory(arch.resolve("20261120"));
        write(arch.resolve("20261122").resolve("000000010000000000000004"), new byte[1]);

        List<String> locations =
                source.find(SEGMENT).stream().map(WalCopy::location).toList();

        assertEquals(List.of(top.toString(), newest.toString(), older.toString()), locations);
    }

    @Test
    void findsHistoryBackupAndPartialNamesLikeSegments() throws Exception {
        for (String name : List.of(
                "00000002.history", "000000010000000000000002.00000028.backup", "000000010000000000000005.partial")) {
            Path file = write(arch.resolve("2026").resolve(name), new byte[7]);
            assertEquals(List.of(new WalCopy("nfs", file.toString(), 7)), source.find(WalFileName.of(name)), name);
        }
    }

    @Test
    void aFileThatIsNowhereIsMissingNotAFailure() throws Exception {
        Files.createDirectory(arch.resolve("20261120"));
        write(arch.resolve("000000010000000000000004"), new byte[1]);
        assertEquals(List.of(), source.find(SEGMENT));
    }

    @Test
    void ignoresFoldersAndFilesThatAreNotWhatTheyClaim() throws Exception {
        // A folder bearing the file's name is no copy; a file bearing a dated name is no folder.
        Files.createDirectories(arch.resolve(SEGMENT.name()));
        write(arch.resolve("20261120"), new byte[3]);
        assertEquals(List.of(), source.find(SEGMENT));
    }

    @Test
    void skipsHiddenFoldersSuchAsAFilersSnapshots() throws Exception {
        write(arch.resolve(".snapshot").resolve(SEGMENT.name()), new byte[3]);
        assertEquals(List.of(), source.find(SEGMENT));
    }

    @Test
    void followsADatedFolderThatIsASymbolicLink() throws Exception {
        Path elsewhere = write(root.resolve("disk2").resolve("2026").resolve(SEGMENT.name()), new byte[5]);
        Files.createSymbolicLink(arch.resolve("2026"), elsewhere.getParent());
        List<WalCopy> copies = source.find(SEGMENT);
        assertEquals(
                List.of(new WalCopy(
                        "nfs", arch.resolve("2026").resolve(SEGMENT.name()).toString(), 5)),
                copies);
    }

    @Test
    void aMissingFolderIsAFailureOfTheSourceNotAMissingFile() {
        LocalDirectorySource gone = new LocalDirectorySource("nfs", root.resolve("not-mounted"));
        SourceUnavailableException e = assertThrows(SourceUnavailableException.class, () -> gone.find(SEGMENT));
        assertEquals("nfs", e.source());
        assertTrue(
                e.getMessage()
                        .startsWith("archive folder '" + root.resolve("not-mounted") + "' of source 'nfs'"
                                + " does not exist\nHINT: "),
                e.getMessage());
    }

    @Test
    void aFileInPlaceOfTheFolderIsAFailureOfTheSource() throws IOException {
        Path file = write(root.resolve("file"), new byte[1]);
        LocalDirectorySource notAFolder = new LocalDirectorySource("nfs", file);
        SourceUnavailableException e = assertThrows(SourceUnavailableException.class, () -> notAFolder.find(SEGMENT));
        assertTrue(e.getMessage().contains("'" + file + "' of source 'nfs' is not a folder"), e.getMessage());
    }

    @Test
    void downloadsTheExactBytesIntoTheCallersFileReplacingItsContent() throws Exception {
        byte[] content = randomBytes(3 * 1024 * 1024 + 17, 2);
        write(arch.resolve("20261120").resolve(SEGMENT.name()), content);
        Path target = write(root.resolve("target.tmp"), randomBytes(5 * 1024 * 1024, 3));

        source.download(source.find(SEGMENT).get(0), target);

        assertArrayEquals(content, Files.readAllBytes(target));
    }

    @Test
    void aCopyThatVanishedSinceItWasFoundIsAFailureOfTheSource() throws Exception {
        Path file = write(arch.resolve(SEGMENT.name()), new byte[4]);
        WalCopy copy = source.find(SEGMENT).get(0);
        Files.delete(file);
        Path target = Files.createFile(root.resolve("target.tmp"));
        SourceUnavailableException e =
                assertThrows(SourceUnavailableException.class, () -> source.download(copy, target));
        assertTrue(e.getMessage().contains("is gone since it was found"), e.getMessage());
    }

    @Test
    void refusesToDownloadAnotherSourcesCopy() throws Exception {
        write(arch.resolve(SEGMENT.name()), new byte[4]);
        WalCopy foreign = new WalCopy("host25", arch.resolve(SEGMENT.name()).toString(), 4);
        Path target = Files.createFile(root.resolve("target.tmp"));
        assertThrows(IllegalArgumentException.class, () -> source.download(foreign, target));
    }

    @Test
    void neverReadsOutsideItsFolder() throws Exception {
        Path secret = write(root.resolve("secret"), "do not copy".getBytes(StandardCharsets.UTF_8));
        Path target = Files.createFile(root.resolve("target.tmp"));
        for (String location : List.of(arch + "/../secret", secret.toString(), arch.toString(), "/etc/passwd")) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> source.download(new WalCopy("nfs", location, -1), target),
                    location);
            assertTrue(e.getMessage().contains("is not inside source 'nfs' folder"), e.getMessage());
        }
        assertEquals(0, Files.size(target));
    }

    @Test
    void closingIsHarmlessAndRepeatable() throws Exception {
        source.close();
        source.close();
        write(arch.resolve(SEGMENT.name()), new byte[1]);
        assertEquals(1, source.find(SEGMENT).size());
    }
}
