package io.zpitr.appliance.audit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit log on real files: the chain, what verify names when a line is touched, and concurrent appends. */
class AuditLogTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-20T04:01:00.123456Z"), ZoneOffset.UTC);
    private static final Actor ALICE = new Actor("root", 4242, "standby1", "alice");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private AuditLog logWith(int events) {
        AuditLog log = new AuditLog(dir.resolve("audit.jsonl"), CLOCK, ALICE);
        for (int i = 1; i <= events; i++) {
            log.append(
                    i % 2 == 1 ? AuditEvent.SNAPSHOT : AuditEvent.HOLD,
                    List.of("snapshot", "--label", "n" + i),
                    Outcome.OK,
                    Map.of("id", "zpitr-20261120T040100Z-n" + i));
        }
        return log;
    }

    private List<String> lines(AuditLog log) throws IOException {
        return Files.readAllLines(log.file(), StandardCharsets.UTF_8);
    }

    private void rewrite(AuditLog log, List<String> lines) throws IOException {
        Files.writeString(log.file(), String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    }

    private static String flipFirstPrevDigit(String line) {
        int at = line.indexOf("\"prev\":\"") + 8;
        return line.substring(0, at) + (line.charAt(at) == '0' ? '1' : '0') + line.substring(at + 1);
    }

    private static String sha256(String line) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(line.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void eachLineIsOneJsonRecordInFixedOrderChainedToTheLineBefore() throws Exception {
        AuditLog log = new AuditLog(dir.resolve("audit.jsonl"), CLOCK, ALICE);
        AuditRecord first = log.append(
                AuditEvent.SNAPSHOT,
                List.of("snapshot", "--label", "before upgrade"),
                Outcome.OK,
                Map.of("id", "zpitr-20261120T040100Z-before-upgrade"));
        log.append(AuditEvent.PRUNE_DESTROY, List.of("prune"), Outcome.FAILED, Map.of("error", "dataset is busy"));
        log.append(AuditEvent.RELEASE, List.of("release", "X", "--tag", "legal"), Outcome.OK, null);

        List<String> lines = lines(log);
        assertEquals(3, lines.size());
        JsonNode line1 = JSON.readTree(lines.get(0));
        List<String> fields = new ArrayList<>();
        line1.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("time", "event", "actor", "command", "outcome", "details", "seq", "prev"), fields);
        assertEquals("2026-11-20T04:01:00.123Z", line1.get("time").asText(), "UTC with milliseconds");
        assertEquals("snapshot", line1.get("event").asText());
        assertEquals(
                "{\"user\":\"root\",\"pid\":4242,\"host\":\"standby1\",\"sudo_user\":\"alice\"}",
                line1.get("actor").toString());
        assertEquals(
                "[\"snapshot\",\"--label\",\"before upgrade\"]",
                line1.get("command").toString());
        assertEquals("ok", line1.get("outcome").asText());
        assertEquals(1, line1.get("seq").asLong());
        assertEquals("0".repeat(64), line1.get("prev").asText());
        assertEquals(first.prev(), line1.get("prev").asText());

        JsonNode line2 = JSON.readTree(lines.get(1));
        assertEquals("prune_destroy", line2.get("event").asText());
        assertEquals("failed", line2.get("outcome").asText());
        assertEquals(
                sha256(lines.get(0)), line2.get("prev").asText(), "prev is the SHA-256 of the previous line's bytes");
        JsonNode line3 = JSON.readTree(lines.get(2));
        assertEquals(sha256(lines.get(1)), line3.get("prev").asText());
        assertEquals("{}", line3.get("details").toString());
        assertEquals(3, line3.get("seq").asLong());

        ChainCheck check = log.verify();
        assertTrue(check.intact(), check.message());
        assertEquals(3, check.lines());
        assertEquals(sha256(lines.get(2)), check.head());
        assertEquals("audit log " + log.file() + ": 3 lines, chain intact", check.message());
    }

    @Test
    void theActorIsThisProcessOnThisHost() throws Exception {
        Actor me = Actor.current();
        assertEquals(System.getProperty("user.name"), me.user());
        assertEquals(ProcessHandle.current().pid(), me.pid());
        Path kernel = Path.of("/proc/sys/kernel/hostname");
        if (Files.isReadable(kernel)) {
            assertEquals(Files.readString(kernel).strip(), me.host());
        }
        assertFalse(me.host().isBlank());
        assertEquals(System.getenv("SUDO_USER"), me.sudoUser());

        AuditRecord written = new AuditLog(dir.resolve("audit.jsonl"))
                .append(AuditEvent.HOLD, List.of("hold", "ID", "--tag", "legal"), Outcome.OK, Map.of());
        JsonNode actor =
                JSON.readTree(Files.readString(dir.resolve("audit.jsonl"))).get("actor");
        assertEquals(me.user(), actor.get("user").asText());
        assertEquals(me.pid(), actor.get("pid").asLong());
        assertEquals(me.host(), actor.get("host").asText());
        assertEquals(me, written.actor());
        assertTrue(
                Duration.between(written.time(), Instant.now()).abs().toSeconds() < 60, "the system clock by default");
    }

    @Test
    void aMissingLogAndItsFolderAreCreatedForOwnerAndGroupOnly() throws Exception {
        Path file = dir.resolve("var/lib/zpitr/audit.jsonl");
        AuditLog log = new AuditLog(file, CLOCK, ALICE);
        assertFalse(log.exists());
        assertEquals(List.of(), log.entries());
        log.append(AuditEvent.SNAPSHOT, List.of("snapshot"), Outcome.OK, Map.of());
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(
                "rw-r-----",
                PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(dir.resolve("var/lib/zpitr/audit.jsonl.lock"))));
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));

        // An existing log keeps the mode its owner gave it.
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        log.append(AuditEvent.SNAPSHOT, List.of("snapshot"), Outcome.OK, Map.of());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void aMissingOrEmptyLogIsNotAnError() throws Exception {
        AuditLog log = new AuditLog(dir.resolve("audit.jsonl"), CLOCK, ALICE);
        ChainCheck missing = log.verify();
        assertTrue(missing.intact());
        assertFalse(missing.exists());
        assertEquals("no audit log at " + log.file() + " yet", missing.message());

        Files.createFile(log.file());
        ChainCheck empty = log.verify();
        assertTrue(empty.intact() && empty.exists());
        assertEquals(0, empty.lines());
        assertNull(empty.head());
        AuditRecord first =
                log.append(AuditEvent.JOB_FAILURE, List.of("daemon"), Outcome.FAILED, Map.of("job", "prune"));
        assertEquals(1, first.seq());
        assertEquals(AuditRecord.FIRST_PREV, first.prev());
        assertTrue(log.verify().intact());
    }

    @Test
    void aChangedByteInAMiddleLineNamesThatLine() throws Exception {
        AuditLog log = logWith(5);
        List<String> original = lines(log);

        List<String> lines = new ArrayList<>(original);
        lines.set(2, lines.get(2).replace("-n3\"", "-n9\"")); // still a valid record: only the chain can tell
        rewrite(log, lines);
        ChainCheck check = log.verify();
        assertFalse(check.intact());
        assertEquals(3, check.badLine(), check.message());
        assertEquals(5, check.lines());
        assertEquals(
                "audit log " + log.file() + ": line 3: was changed: line 4's prev does not match its hash"
                        + " (line 4 itself is intact: line 5's prev matches it)",
                check.message());
        assertTrue(check.hint().contains("lines 1 to 2 are intact"), check.hint());

        lines = new ArrayList<>(original);
        lines.set(2, lines.get(2).replace("\"outcome\":\"ok\"", "\"outcome\":\"ok\"}")); // no longer JSON
        rewrite(log, lines);
        check = log.verify();
        assertEquals(3, check.badLine(), check.message());
        assertTrue(check.problem().startsWith("is not a valid audit record (not valid JSON"), check.problem());

        lines = new ArrayList<>(original);
        lines.set(1, lines.get(1).replace("\"seq\":2", "\"seq\":7"));
        rewrite(log, lines);
        check = log.verify();
        assertEquals(2, check.badLine(), check.message());
        assertTrue(check.problem().startsWith("was changed: its seq is 7, not 2"), check.problem());

        lines = new ArrayList<>(original);
        lines.set(3, flipFirstPrevDigit(lines.get(3)));
        rewrite(log, lines);
        check = log.verify();
        assertEquals(4, check.badLine(), "line 4's own prev changed: line 3 is intact: " + check.message());
        assertEquals(
                "was changed: its prev does not match line 3, and line 5's prev does not match it", check.problem());
    }

    @Test
    void aChangeToTheFirstOrLastLineIsFoundToo() throws Exception {
        AuditLog log = logWith(3);
        List<String> original = lines(log);
        String head = log.verify().head();

        List<String> lines = new ArrayList<>(original);
        lines.set(0, lines.get(0).replace("\"user\":\"root\"", "\"user\":\"rooT\""));
        rewrite(log, lines);
        assertEquals(1, log.verify().badLine(), log.verify().message());

        lines = new ArrayList<>(original);
        lines.set(0, lines.get(0).replace("\"prev\":\"0000", "\"prev\":\"0001"));
        rewrite(log, lines);
        assertEquals(
                "audit log " + log.file() + ": line 1: was changed: the first line's prev must be 64 zeros",
                log.verify().message());

        // The last line has no successor to vouch for it: the chain holds, the head tells.
        lines = new ArrayList<>(original);
        lines.set(2, lines.get(2).replace("-n3\"", "-n4\""));
        rewrite(log, lines);
        ChainCheck check = log.verify();
        assertTrue(check.intact());
        assertNotEquals(head, check.head());
    }

    @Test
    void aRemovedLineIsNamed() throws Exception {
        AuditLog log = logWith(6);
        List<String> original = lines(log);
        String head = log.verify().head();

        List<String> lines = new ArrayList<>(original);
        lines.remove(2);
        rewrite(log, lines);
        ChainCheck check = log.verify();
        assertEquals(3, check.badLine(), check.message());
        assertEquals(
                "audit log " + log.file() + ": line 3: 1 line before it was removed: seq jumps from 2 on line 2 to 4,"
                        + " and its prev does not match line 2",
                check.message());
        assertEquals(5, check.lines());

        lines = new ArrayList<>(original);
        lines.subList(1, 4).clear();
        rewrite(log, lines);
        check = log.verify();
        assertEquals(2, check.badLine(), check.message());
        assertTrue(
                check.problem().startsWith("3 lines before it were removed: seq jumps from 1 on line 1 to 5"),
                check.problem());

        lines = new ArrayList<>(original);
        lines.remove(0);
        rewrite(log, lines);
        check = log.verify();
        assertEquals(1, check.badLine(), check.message());
        assertTrue(check.problem().startsWith("the first 1 line of the log was removed"), check.problem());

        // Removing the newest line leaves a valid, shorter chain with another head.
        lines = new ArrayList<>(original);
        lines.remove(5);
        rewrite(log, lines);
        check = log.verify();
        assertTrue(check.intact());
        assertEquals(5, check.lines());
        assertNotEquals(head, check.head());
    }

    @Test
    void aDuplicatedOrMovedLineIsNamed() throws Exception {
        AuditLog log = logWith(4);
        List<String> original = lines(log);

        List<String> lines = new ArrayList<>(original);
        lines.add(2, original.get(1)); // line 2 again as line 3
        rewrite(log, lines);
        ChainCheck check = log.verify();
        assertEquals(3, check.badLine(), check.message());
        assertTrue(check.problem().startsWith("is out of order: seq 2 follows seq 2"), check.problem());

        lines = new ArrayList<>(original);
        lines.set(1, original.get(2));
        lines.set(2, original.get(1));
        rewrite(log, lines);
        check = log.verify();
        assertEquals(2, check.badLine(), check.message());
        assertTrue(
                check.problem().contains("1 line before it was removed"), "line 2 now holds seq 3: " + check.problem());

        lines = new ArrayList<>(original);
        lines.add(2, "");
        rewrite(log, lines);
        assertEquals(
                "audit log " + log.file() + ": line 3: is empty", log.verify().message());
    }

    @Test
    void anInterruptedWriteIsReportedAndStopsAppendsUntilCutOff() throws Exception {
        AuditLog log = logWith(3);
        byte[] whole = Files.readAllBytes(log.file());
        long lastLineStart = String.join("\n", lines(log).subList(0, 2)).getBytes(StandardCharsets.UTF_8).length + 1;
        try (FileChannel ch = FileChannel.open(log.file(), StandardOpenOption.WRITE)) {
            ch.truncate(whole.length - 20); // a crash in the middle of writing line 3
        }
        byte[] cut = Files.readAllBytes(log.file());

        ChainCheck check = log.verify();
        assertEquals(3, check.badLine(), check.message());
        assertEquals(
                "audit log " + log.file() + ": line 3: has no trailing newline: the write of this record was"
                        + " interrupted (a crash or a full disk)",
                check.message());
        assertTrue(check.hint().contains("truncate -s " + lastLineStart + " " + log.file()), check.hint());
        assertEquals(3, check.lines());

        AuditLogException refused = assertThrows(
                AuditLogException.class, () -> log.append(AuditEvent.HOLD, List.of("hold"), Outcome.OK, Map.of()));
        assertTrue(
                refused.getMessage().startsWith("audit log " + log.file() + ": line 3 has no trailing newline"),
                refused.getMessage());
        assertTrue(
                refused.getMessage().contains("\nHINT: ")
                        && refused.getMessage().contains("truncate -s " + lastLineStart),
                refused.getMessage());
        assertArrayEquals(cut, Files.readAllBytes(log.file()), "a refused append changes nothing");

        // Following the hint makes the log good again.
        try (FileChannel ch = FileChannel.open(log.file(), StandardOpenOption.WRITE)) {
            ch.truncate(lastLineStart);
        }
        log.append(AuditEvent.HOLD, List.of("hold"), Outcome.OK, Map.of());
        check = log.verify();
        assertTrue(check.intact(), check.message());
        assertEquals(3, check.lines());
    }

    @Test
    void aLastLineThatIsNoRecordStopsAppends() throws Exception {
        AuditLog log = logWith(2);
        Files.writeString(log.file(), "hello\n", StandardOpenOption.APPEND);
        AuditLogException refused = assertThrows(
                AuditLogException.class, () -> log.append(AuditEvent.HOLD, List.of("hold"), Outcome.OK, Map.of()));
        assertTrue(
                refused.getMessage().startsWith("audit log " + log.file() + ": line 3 is not a valid audit record"),
                refused.getMessage());
        assertEquals(3, log.verify().badLine());
    }

    @Test
    void appendsGoOnAfterAChangedMiddleLineAndVerifyStillNamesIt() throws Exception {
        AuditLog log = logWith(3);
        List<String> lines = lines(log);
        lines.set(1, lines.get(1).replace("-n2\"", "-nX\""));
        rewrite(log, lines);
        log.append(AuditEvent.HOLD, List.of("hold"), Outcome.OK, Map.of());
        assertEquals(2, log.verify().badLine());
        assertEquals(4, log.verify().lines());
    }

    @Test
    void detailsAndArgumentsKeepTheirTypesOnOneLine() throws Exception {
        AuditLog log = new AuditLog(dir.resolve("audit.jsonl"), CLOCK, new Actor("postgres", 1, "h", null));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("error", "line one\nline two \"quoted\"\ttab");
        details.put("datasets", List.of("tank/pg/data", "tank/pg/tblspc1"));
        details.put("bytes", 123456789012L);
        details.put("atomic", true);
        details.put("target", Instant.parse("2026-11-20T04:01:00Z"));
        details.put("path", Path.of("/tank/restore/r1"));
        details.put("nested", Map.of("k", 1));
        details.put("nothing", null);
        details.put("name", "zürich ✓");
        log.append(
                AuditEvent.RESTORE,
                List.of("restore", "--to-time", "2026-11-20 04:01:00+08", "--name", "r 1"),
                Outcome.OK,
                details);

        List<String> lines = lines(log);
        assertEquals(1, lines.size(), "newlines inside values are escaped");
        AuditRecord read = log.entries().get(0).record();
        assertNotNull(read);
        assertEquals(List.of("restore", "--to-time", "2026-11-20 04:01:00+08", "--name", "r 1"), read.command());
        assertEquals(
                "line one\nline two \"quoted\"\ttab",
                read.details().get("error").asText());
        assertTrue(read.details().get("datasets").isArray());
        assertEquals(123456789012L, read.details().get("bytes").asLong());
        assertTrue(read.details().get("atomic").asBoolean());
        assertEquals("2026-11-20T04:01:00Z", read.details().get("target").asText());
        assertEquals("/tank/restore/r1", read.details().get("path").asText());
        assertEquals("zürich ✓", read.details().get("name").asText());
        assertFalse(read.actor().display().contains("sudo"));
        assertEquals("postgres@h", read.actor().display());
        assertTrue(
                read.detailsText()
                        .startsWith("error=\"line one\\nline two \\\"quoted\\\"\\ttab\" datasets=[\"tank/pg/data\""),
                read.detailsText());
        assertTrue(log.verify().intact());
    }

    @Test
    void manyThreadsLoseNoLineAndKeepTheChain() throws Exception {
        AuditLog log = new AuditLog(dir.resolve("audit.jsonl"));
        ConcurrentAppender.appendFromThreads(log, "jvm", 8, 40);
        assertAllAppendedOnce(log, Map.of("jvm", 8), 40);
    }

    @Test
    void twoProcessesAndThreadsLoseNoLineAndKeepTheChain() throws Exception {
        AuditLog log = new AuditLog(dir.resolve("audit.jsonl"));
        Path go = dir.resolve("go");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<ProcessResult>> children = new ArrayList<>();
            for (String writer : List.of("p1", "p2")) {
                Command command = Command.of(
                                java,
                                "-cp",
                                classPath,
                                ConcurrentAppender.class.getName(),
                                log.file().toString(),
                                writer,
                                "4",
                                "50",
                                dir.resolve(writer + ".ready").toString(),
                                go.toString())
                        .timeout(Duration.ofMinutes(2));
                children.add(pool.submit(() -> new ProcessRunner().run(command)));
            }
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (!(Files.exists(dir.resolve("p1.ready")) && Files.exists(dir.resolve("p2.ready")))) {
                assertTrue(Instant.now().isBefore(deadline), "the child processes did not start");
                for (Future<ProcessResult> child : children) {
                    if (child.isDone()) {
                        ProcessResult r = child.get();
                        throw new AssertionError(
                                "a child ended before the barrier: " + r.exitCode() + " " + r.stderr());
                    }
                }
                Thread.sleep(5);
            }
            Files.createFile(go);
            ConcurrentAppender.appendFromThreads(log, "jvm", 4, 50);
            for (Future<ProcessResult> child : children) {
                ProcessResult r = child.get();
                assertEquals(0, r.exitCode(), r.stderr());
            }
        } finally {
            pool.shutdownNow();
        }
        List<AuditLog.Entry> entries = assertAllAppendedOnce(log, Map.of("jvm", 4, "p1", 4, "p2", 4), 50);
        Set<Long> pids = new HashSet<>();
        int switches = 0;
        for (int i = 0; i < entries.size(); i++) {
            pids.add(entries.get(i).record().actor().pid());
            if (i > 0
                    && entries.get(i).record().actor().pid()
                            != entries.get(i - 1).record().actor().pid()) {
                switches++;
            }
        }
        assertEquals(3, pids.size(), "three processes wrote");
        assertTrue(switches >= 3, "the processes' appends interleaved: " + switches + " switches");
    }

    private static List<AuditLog.Entry> assertAllAppendedOnce(
            AuditLog log, Map<String, Integer> threadsByWriter, int count) {
        ChainCheck check = log.verify();
        assertTrue(check.intact(), check.message());
        int expected =
                threadsByWriter.values().stream().mapToInt(t -> t * count).sum();
        assertEquals(expected, check.lines());
        List<AuditLog.Entry> entries = log.entries();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            AuditRecord r = entries.get(i).record();
            assertEquals(i + 1, r.seq());
            assertTrue(
                    seen.add(r.details().get("writer").asText() + "/"
                            + r.details().get("thread").asInt() + "/"
                            + r.details().get("i").asInt()),
                    "appended twice: " + entries.get(i).text());
        }
        assertEquals(expected, seen.size());
        return entries;
    }
}
