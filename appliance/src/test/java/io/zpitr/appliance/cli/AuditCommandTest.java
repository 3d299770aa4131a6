package io.zpitr.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.audit.Actor;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.audit.AuditLog;
import io.zpitr.appliance.audit.Outcome;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `zpitr audit` on real log files: the table, the raw lines, --verify's verdicts and the configured path. */
class AuditCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    private static Run run(CommandLine cli, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Run audit(Path log, String... args) {
        return run(new CommandLine(new AuditCommand(log)), args);
    }

    private AuditLog threeEvents(Path file) {
        AuditLog log = new AuditLog(
                file,
                Clock.fixed(Instant.parse("2026-11-20T04:01:00.120Z"), ZoneOffset.UTC),
                new Actor("root", 77, "standby1", "alice"));
        log.append(
                AuditEvent.SNAPSHOT,
                List.of("snapshot", "--label", "nightly"),
                Outcome.OK,
                Map.of("id", "zpitr-20261120T040100Z-nightly", "datasets", 2));
        log.append(
                AuditEvent.HOLD,
                List.of("hold", "zpitr-20261120T040100Z-nightly", "--tag", "legal"),
                Outcome.OK,
                Map.of("tag", "legal"));
        log.append(
                AuditEvent.JOB_FAILURE,
                List.of("daemon"),
                Outcome.FAILED,
                Map.of(
                        "job",
                        "prune",
                        "error",
                        "cannot destroy 'tank/pg/data@zpitr-x': dataset is busy, and a long tail"
                                + " of text that the table cuts short"));
        return log;
    }

    @Test
    void theTableShowsTimeEventOutcomeActorAndShortDetails() {
        Path file = dir.resolve("audit.jsonl");
        threeEvents(file);
        Run r = audit(file);
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(4, lines.size(), r.out());
        assertTrue(lines.get(0).matches("LINE +TIME \\(UTC\\) +EVENT +OUTCOME +ACTOR +DETAILS"), lines.get(0));
        assertTrue(
                lines.get(1)
                        .matches(
                                " +1 +2026-11-20T04:01:00\\.120Z +snapshot +ok +alice\\(sudo\\)@standby1 +"
                                        + "(id=zpitr-20261120T040100Z-nightly datasets=2|datasets=2 id=zpitr-20261120T040100Z-nightly)"),
                lines.get(1));
        assertTrue(lines.get(2).contains(" hold ") && lines.get(2).endsWith("tag=legal"), lines.get(2));
        assertTrue(lines.get(3).contains(" job_failure ") && lines.get(3).contains(" failed "), lines.get(3));
        assertTrue(lines.get(3).endsWith("..."), "long details are cut: " + lines.get(3));
        // Columns line up.
        assertEquals(lines.get(0).indexOf("EVENT"), lines.get(1).indexOf("snapshot"));
        assertEquals(lines.get(0).indexOf("EVENT"), lines.get(3).indexOf("job_failure"));
    }

    @Test
    void jsonPrintsTheStoredLinesExactly() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        threeEvents(file);
        Run r = audit(file, "--format", "json");
        assertEquals(0, r.code(), r.err());
        assertEquals(Files.readString(file), r.out());
    }

    @Test
    void verifySaysIntactOrNamesTheFirstBadLine() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        threeEvents(file);
        Run ok = audit(file, "--verify");
        assertEquals(0, ok.code(), ok.err());
        assertEquals("audit log " + file + ": 3 lines, chain intact\n", ok.out());

        List<String> lines = Files.readAllLines(file);
        Files.writeString(
                file, lines.get(0) + "\n" + lines.get(1).replace("legal\"}", "legaL\"}") + "\n" + lines.get(2) + "\n");
        Run bad = audit(file, "--verify");
        assertEquals(1, bad.code());
        assertEquals("", bad.out());
        // Line 3 is the last: nothing vouches for it, so its own prev may be what changed.
        assertTrue(
                bad.err()
                        .startsWith("audit log " + file + ": line 2: was changed, or line 3's prev was: line 3's prev"
                                + " does not match the hash of line 2\n"),
                bad.err());
        assertTrue(
                bad.err().contains("\nHINT: the log was edited or damaged outside zpitr; lines 1 to 1 are intact"),
                bad.err());

        // Printing still works, and warns.
        Run print = audit(file);
        assertEquals(0, print.code());
        assertEquals(4, print.out().lines().count());
        assertTrue(
                print.err().startsWith("zpitr audit: warning: audit log " + file + ": line 2: was changed, or"),
                print.err());

        Run json = audit(file, "--verify", "--format", "json");
        assertEquals(1, json.code());
        JsonNode verdict = new ObjectMapper().readTree(json.out());
        assertEquals(file.toString(), verdict.get("file").asText());
        assertTrue(verdict.get("exists").asBoolean());
        assertEquals(3, verdict.get("lines").asInt());
        assertEquals(false, verdict.get("intact").asBoolean());
        assertEquals(2, verdict.get("bad_line").asInt());
        assertTrue(verdict.get("problem").asText().startsWith("was changed"));
    }

    @Test
    void verifyJsonGivesTheHeadToKeepElsewhere() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        AuditLog log = threeEvents(file);
        Run r = audit(file, "--verify", "--format", "json");
        assertEquals(0, r.code(), r.err());
        JsonNode verdict = new ObjectMapper().readTree(r.out());
        assertTrue(verdict.get("intact").asBoolean());
        assertEquals(3, verdict.get("lines").asInt());
        assertEquals(log.verify().head(), verdict.get("head").asText());
        assertEquals(64, verdict.get("head").asText().length());
    }

    @Test
    void anInterruptedLastLineFailsVerify() throws Exception {
        Path file = dir.resolve("audit.jsonl");
        threeEvents(file);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        Run r = audit(file, "--verify");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("audit log " + file + ": line 3: has no trailing newline"), r.err());
        assertTrue(
                r.err()
                        .contains(
                                "HINT: keep a copy of the log as evidence, then cut the partial line off with 'truncate -s "),
                r.err());
        Run print = audit(file);
        assertEquals(0, print.code());
        assertTrue(print.out().lines().anyMatch(l -> l.contains("damaged: no trailing newline")), print.out());
    }

    @Test
    void noLogYetIsNotAnError() {
        Path file = dir.resolve("nothing/audit.jsonl");
        Run print = audit(file);
        assertEquals(0, print.code());
        assertEquals("no audit log at " + file + " yet\n", print.out());
        Run verify = audit(file, "--verify");
        assertEquals(0, verify.code());
        assertEquals("no audit log at " + file + " yet\n", verify.out());
        Run json = audit(file, "--format", "json");
        assertEquals(0, json.code());
        assertEquals("", json.out(), "JSON Lines output stays empty");
        assertEquals("no audit log at " + file + " yet\n", json.err());
        assertTrue(audit(file, "--verify", "--format", "json").out().contains("\"exists\":false"));
        assertTrue(Files.notExists(file.getParent()), "reading creates nothing");
    }

    @Test
    void anUnknownFormatIsAUsageError() {
        Run r = audit(dir.resolve("audit.jsonl"), "--format", "csv");
        assertEquals(Main.USAGE, r.code());
        assertTrue(r.err().contains("'csv' is not a format: use table or json"), r.err());
    }

    @Test
    void helpStatesWhatAMissingLogDoes() {
        Run r = audit(dir.resolve("audit.jsonl"), "--help");
        assertEquals(0, r.code());
        assertTrue(
                r.out().contains("No log yet is not an error: both forms say 'no audit log at FILE yet'\nand exit 0."),
                r.out());
    }

    @Test
    void underMainTheLogIsTheConfiguredOne() throws Exception {
        Path config = dir.resolve("etc/zpitr.yaml");
        Files.createDirectories(config.getParent());
        Files.writeString(config, "state_dir: ../state\naudit:\n  log: logs/audit.jsonl\n");
        Path configured = dir.resolve("etc/logs/audit.jsonl");
        threeEvents(configured);
        Run r = run(underMain(), "--config", config.toString(), "audit", "--verify");
        assertEquals(0, r.code(), r.err());
        assertEquals("audit log " + configured + ": 3 lines, chain intact\n", r.out());

        Files.writeString(config, "state_dir: ../state\n");
        r = run(underMain(), "--config", config.toString(), "audit");
        assertEquals(0, r.code(), r.err());
        assertEquals(
                "no audit log at " + dir.resolve("state/audit.jsonl") + " yet\n",
                r.out(),
                "default: <state_dir>/audit.jsonl");
    }

    /** Main, which registers the audit command. */
    private static CommandLine underMain() {
        return new CommandLine(new Main.All());
    }
}
