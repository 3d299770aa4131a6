package io.zpitr.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The README's first command, run for real on this machine's zfs-fuse, then cleaned up. */
class DemoCommandTest {
    private static final Path DIR = Path.of("/var/tmp/zpitr-demo-test");

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @AfterAll
    static void clean() {
        run("demo", "--clean", "--dir", DIR.toString());
    }

    @Test
    void demoNarratesTheZfsLifeCycleAndCleanRemovesEverything() throws Exception {
        String[] r = run("demo", "--dir", DIR.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        String out = r[1];
        assertTrue(out.contains("ATOMIC (recursive snapshot of zpitrdemo/pg)"), out);
        assertTrue(out.contains("The clone holds: row 1, committed before the snapshot"), out);
        assertTrue(out.contains("was refused"), out);
        assertTrue(out.contains("zpitr demo --clean"), out);
        // What it says is there, is there.
        String rows = Files.readString(DIR.resolve("mnt/restore/demo1/rows.txt"));
        assertEquals("row 1, committed before the snapshot\n", rows);
        String snaps = new ProcessRunner().run(Command.of("zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-r", "zpitrdemo"))
                .requireSuccess().stdout();
        assertEquals(2, snaps.lines().count(), snaps);

        String[] again = run("demo", "--dir", DIR.toString());
        assertEquals("0", again[0], "a second run replaces the first sandbox: " + again[2]);

        String[] cleaned = run("demo", "--clean", "--dir", DIR.toString());
        assertEquals("0", cleaned[0], cleaned[2]);
        assertFalse(new ProcessRunner().run(Command.of("zpool", "list", "-H", "-o", "name")).stdout().contains("zpitrdemo"));
        assertFalse(Files.exists(DIR));
    }

    @Test
    void unknownCommandsAndOptionsAreUsageErrors() {
        assertEquals("2", run("no-such-command")[0]);
        assertEquals("2", run("demo", "--no-such-option")[0]);
        String[] relative = run("demo", "--dir", "relative/../x");
        assertEquals("2", relative[0]);
        assertTrue(relative[2].contains("--dir must be an absolute path"), relative[2]);
    }

    @Test
    void helpListsTheCommandsThatExist() {
        String[] r = run("--help");
        assertEquals("0", r[0]);
        assertTrue(r[1].contains("demo"), r[1]);
    }
}
