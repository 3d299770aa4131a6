package io.zpitr.appliance.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.cli.Main;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, end to end on this machine's real components: zfs-fuse, PostgreSQL 15
 * run as postgres, sshd on loopback addresses, and the standby's restore_command through
 * bin/zpitr and the packaged jar (hence an IT, run after package). A second run replaces the first
 * sandbox; --clean leaves no pool, no process and no folder.
 */
class DemoIT {
    private static final Path DIR = Path.of("/var/tmp/zpitr-demo-it");
    private static final ProcessRunner RUNNER = new ProcessRunner();

    record Run(int code, String out, String err) {}

    private static Run zpitr(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @AfterAll
    static void cleanEvenAfterAFailure() {
        zpitr("demo", "--clean", "--dir", DIR.toString());
    }

    @Test
    void demoRestoresToTheMomentBetweenTwoWritesAndCleanRemovesEverything() throws Exception {
        Run first = zpitr("demo", "--dir", DIR.toString());
        assertEquals(0, first.code(), first.out() + first.err());
        String out = first.out();
        // The restored instance's rows, as the narration shows them: row A present, row B absent.
        String rows = between(out, "$ runuser -u postgres -- psql", "Row A is there, row B is not");
        assertTrue(rows.contains("| opening balance |") && rows.contains("| row A "), out);
        assertFalse(rows.contains("row B"), out);
        assertTrue(out.contains("(2 rows)"), out);
        assertTrue(out.contains("reached:  recovery stopping before commit"), out);
        // The failover was real: the first host was passed over, the second served.
        assertTrue(out.contains("Killed host1's sshd"), out);
        assertTrue(out.contains("host1: unavailable") && out.contains("host2: fetched"), out);
        assertTrue(out.contains("chain intact"), out);
        assertTrue(out.contains("Recoverable window:"), out);
        assertTrue(out.contains("zpitr demo --clean --dir " + DIR), out);

        // What it says runs, runs: the restored instance answers, independently of the narration.
        Path config = DIR.resolve("zpitr.yaml");
        Run restores = zpitr("--config", config.toString(), "restores", "--format", "json");
        assertEquals(0, restores.code(), restores.err());
        JsonNode demo = new ObjectMapper().readTree(restores.out()).get(0);
        assertEquals("running", demo.get("state").asText());
        ProcessResult notes = RUNNER.run(Command.of(
                "runuser",
                "-u",
                "postgres",
                "--",
                "/usr/lib/postgresql/15/bin/psql",
                "-X",
                "-A",
                "-t",
                "-h",
                DIR.resolve("mnt/restore/demo/run").toString(),
                "-p",
                demo.get("port").asText(),
                "-d",
                "postgres",
                "-c",
                "select string_agg(note, ',' order by id) from ledger"));
        assertEquals("opening balance,row A", notes.requireSuccess().stdout().strip());

        Run second = zpitr("demo", "--dir", DIR.toString());
        assertEquals(0, second.code(), "a second run replaces the first sandbox: " + second.out() + second.err());
        assertTrue(second.out().contains("A clean slate"), second.out());

        Run cleaned = zpitr("demo", "--clean", "--dir", DIR.toString());
        assertEquals(0, cleaned.code(), cleaned.out() + cleaned.err());
        String pools =
                RUNNER.run(Command.of("zpool", "list", "-H", "-o", "name")).stdout();
        assertFalse(pools.lines().anyMatch(SandboxLayout.poolName(DIR)::equals), pools);
        assertFalse(Files.exists(DIR), "the folder is gone");
        for (String pattern : new String[] {DIR + "/", config + " wal-(prefetch|fetch )"}) {
            ProcessResult left = RUNNER.run(Command.of("pgrep", "-af", pattern).timeout(Duration.ofSeconds(10)));
            assertEquals(1, left.exitCode(), "processes of the sandbox are left: " + left.stdout());
        }
        Run again = zpitr("demo", "--clean", "--dir", DIR.toString());
        assertEquals(0, again.code(), "cleaning twice is fine: " + again.err());
        assertTrue(again.out().contains("Nothing to clean"), again.out());
    }

    private static String between(String text, String from, String to) {
        int a = text.indexOf(from);
        int b = text.indexOf(to, Math.max(a, 0));
        assertTrue(a >= 0 && b > a, "no '" + from + "' ... '" + to + "' in:\n" + text);
        return text.substring(a, b);
    }
}
