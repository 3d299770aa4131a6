package io.zpitr.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The demo's command line; the demo itself runs end to end in io.zpitr.appliance.demo.DemoIT. */
class DemoCommandTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void unknownCommandsAndOptionsAreUsageErrors() {
        assertEquals("2", run("no-such-command")[0]);
        assertEquals("2", run("demo", "--no-such-option")[0]);
        String[] relative = run("demo", "--dir", "relative/../x");
        assertEquals("2", relative[0]);
        assertTrue(relative[2].contains("--dir must be an absolute path"), relative[2]);
        String[] odd = run("demo", "--clean", "--dir", "/var/tmp/with space");
        assertEquals("2", odd[0]);
        assertTrue(odd[2].contains("letters, digits"), odd[2]);
    }

    @Test
    void cleanRefusesAFolderThatIsNoSandbox() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "zpitr-not-a-sandbox-");
        Path keep = Files.writeString(dir.resolve("precious.txt"), "keep me");
        try {
            String[] r = run("demo", "--clean", "--dir", dir.toString());
            assertEquals("2", r[0], r[1] + r[2]);
            assertTrue(r[2].contains("is not a zpitr demo sandbox"), r[2]);
            assertTrue(Files.exists(keep), "nothing was removed");
        } finally {
            Files.delete(keep);
            Files.delete(dir);
        }
    }

    @Test
    void cleaningNothingIsFine() {
        String[] r = run("demo", "--clean", "--dir", "/var/tmp/zpitr-demo-never-made");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("Nothing to clean"), r[1]);
    }

    @Test
    void helpDescribesTheDemo() {
        String[] r = run("--help");
        assertEquals("0", r[0]);
        assertTrue(r[1].contains("demo"), r[1]);
        String[] demo = run("demo", "--help");
        assertEquals("0", demo[0]);
        assertTrue(demo[1].contains("--clean") && demo[1].contains("restore --to-time"), demo[1]);
    }
}
