// What keeps a folder busy, found as umount would find it: real processes working in it or holding a file open there.
package io.zpitr.process;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessTreesTest {

    @Test
    void findsAProcessWorkingInTheFolderAndOneHoldingAFileThere(@TempDir Path dir) throws Exception {
        Path inside = Files.createDirectories(dir.resolve("clone/pgdata"));
        Path log = Files.writeString(dir.resolve("clone/log"), "x\n", StandardCharsets.UTF_8);
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Process working =
                new ProcessBuilder("sleep", "60").directory(inside.toFile()).start();
        Process holding = new ProcessBuilder("tail", "-f", log.toString())
                .directory(elsewhere.toFile())
                .redirectOutput(new File("/dev/null"))
                .start();
        Process unrelated =
                new ProcessBuilder("sleep", "60").directory(elsewhere.toFile()).start();
        try {
            // tail opens its file a moment after it starts: wait for that, bounded.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (ProcessTrees.holding(dir.resolve("clone")).stream().noneMatch(h -> h.pid() == holding.pid())
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            var holders = ProcessTrees.holding(dir.resolve("clone")).stream()
                    .map(ProcessHandle::pid)
                    .toList();
            assertTrue(holders.contains(working.pid()), "cwd inside: " + holders);
            assertTrue(holders.contains(holding.pid()), "open file inside: " + holders);
            assertFalse(holders.contains(unrelated.pid()), "neither: " + holders);
            assertFalse(holders.contains(ProcessHandle.current().pid()), "never this process");
        } finally {
            for (Process p : new Process[] {working, holding, unrelated}) {
                ProcessTrees.stop(p.toHandle(), Duration.ofSeconds(5));
            }
        }
        assertTrue(ProcessTrees.holding(dir.resolve("clone")).isEmpty(), "nothing left");
    }

    @Test
    void aProcessThatRewritesItsTitleIsFoundByItsArguments(@TempDir Path dir) throws Exception {
        // sshd's way: the title replaces argv in place; the kernel's cmdline keeps what was written.
        String marker = dir.resolve("sandbox-marker").toString();
        Process p = new ProcessBuilder("bash", "-c", "exec -a 'sshd: " + marker + " [listener]' sleep 60").start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (ProcessTrees.mentioning(marker).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(
                    ProcessTrees.mentioning(marker).stream().anyMatch(h -> h.pid() == p.pid()),
                    ProcessTrees.commandLine(p.toHandle()));
        } finally {
            ProcessTrees.stop(p.toHandle(), Duration.ofSeconds(5));
        }
    }
}
