package io.zpitr.appliance.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditLog;
import io.zpitr.appliance.audit.AuditRecord;
import io.zpitr.appliance.audit.Outcome;
import io.zpitr.appliance.cli.Main;
import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.error.ZpitrException;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon on a real zfs-fuse pool holding a real PostgreSQL 15 standby: scheduled snapshots,
 * a missed run made up once, failures audited and retried, sd_notify on a real socket, and a
 * SIGTERM to a real child JVM. Every test has its own snapshot prefix and state_dir.
 */
class DaemonTest {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.create();

    static StandbyOnZfs lab;

    @TempDir
    Path dir;

    private Daemon running;

    @BeforeAll
    static void standbyOnZfs() throws Exception {
        lab = StandbyOnZfs.start(POOL, List.of());
    }

    @AfterAll
    static void stopStandby() throws IOException {
        if (lab != null) {
            lab.close();
        }
    }

    @AfterEach
    void stopDaemon() {
        if (running != null) {
            running.stop("test over");
        }
        SystemdNotifierTest.LibC.INSTANCE.unsetenv("NOTIFY_SOCKET");
    }

    private Daemon start(Path config, RetryPolicy retry, SystemdNotifier notifier, Optional<Duration> watchdog)
            throws Exception {
        Appliance appliance = new Appliance(ConfigLoader.load(config), new ProcessRunner(), Clock.systemUTC());
        running = new Daemon(appliance, new Daemon.Options(retry, notifier, watchdog));
        running.start();
        return running;
    }

    private Daemon start(Path config, RetryPolicy retry) throws Exception {
        return start(config, retry, SystemdNotifier.forThisProcess(null), Optional.empty());
    }

    private Path state() {
        return dir.resolve("state");
    }

    private List<AuditRecord> audit() {
        List<AuditRecord> records = new ArrayList<>();
        for (AuditLog.Entry e : new AuditLog(state().resolve("audit.jsonl")).entries()) {
            records.add(Objects.requireNonNull(e.record(), e.problem()));
        }
        return records;
    }

    private List<AuditRecord> audit(String event) {
        return audit().stream().filter(r -> r.event().equals(event)).toList();
    }

    private Optional<ScheduleState.JobRun> job(JobKind kind) {
        return ScheduleState.read(state()).job(kind);
    }

    /** Snapshot set ids with this prefix, from the pool itself (the PGDATA dataset's snapshots). */
    private static List<String> sets(String prefix) {
        List<String> ids = new ArrayList<>();
        for (String line :
                POOL.zfs("list", "-H", "-t", "snapshot", "-o", "name").lines().toList()) {
            if (line.startsWith(POOL.name() + "/pg/data@" + prefix + "-")) {
                ids.add(line.substring(line.indexOf('@') + 1));
            }
        }
        return ids;
    }

    private static void waitFor(String what, Duration limit, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + limit + ": " + what);
            }
            Thread.sleep(50);
        }
    }

    /** A state file whose jobs last ran (ok) {@code ago} before now. */
    private void lastRanAgo(Duration ago, JobKind... kinds) throws IOException {
        StringBuilder jobs = new StringBuilder();
        Instant then = Instant.now().minus(ago);
        for (JobKind k : kinds) {
            jobs.append(jobs.length() == 0 ? "" : ",\n")
                    .append("    \"")
                    .append(k.wireName())
                    .append("\": {\"last_run\": \"")
                    .append(then)
                    .append("\", \"outcome\": \"ok\", \"finished\": \"")
                    .append(then.plusSeconds(1))
                    .append("\", \"trigger\": \"schedule\", \"attempt\": 0, \"result\": \"earlier\", \"error\": null,"
                            + " \"next_retry\": null}");
        }
        Files.createDirectories(state());
        Files.writeString(ScheduleState.fileIn(state()), "{\"format\": 1, \"jobs\": {\n" + jobs + "\n}}\n");
    }

    /** A daily 5-field cron schedule whose time today (UTC) passed an hour ago. */
    private static String dailyAnHourAgo() {
        ZonedDateTime t = ZonedDateTime.now(ZoneOffset.UTC).minusHours(1);
        return t.getMinute() + " " + t.getHour() + " * * *";
    }

    @Test
    void theDaemonMirrorsTheWalSinceTheNewestSetAsItIsArchived() throws Exception {
        Path mirror = dir.resolve("mirror");
        Path config = lab.config(
                dir,
                "mirr",
                lab.datasets(),
                "archive:\n  mirror_dir: " + mirror + "\n  sources:\n    - {name: nfs, type: local, path: "
                        + lab.lab().archive() + "}\n"
                        + "schedule:\n  prune: \"0 3 1 1 *\"\n");
        Appliance appliance = new Appliance(ConfigLoader.load(config), new ProcessRunner(), Clock.systemUTC());
        appliance
                .snapshots()
                .take(
                        null,
                        null,
                        appliance.standby()::position,
                        "test",
                        io.zpitr.appliance.snapshot.SnapshotProperties.auditHead(appliance.audit()));
        List<SnapshotSet> sets = appliance.catalog().list();
        SnapshotSet newest = sets.get(sets.size() - 1);
        String first = Lsn.parse(newest.redoLsn()).walFileName(newest.timeline(), 16L << 20);
        System.setProperty("zpitr.mirror.every.ms", "300");
        try {
            start(config, RetryPolicy.DEFAULT);
            waitFor(
                    "the redo segment " + first + " in the mirror",
                    Duration.ofSeconds(60),
                    () -> Files.isRegularFile(mirror.resolve(first)));
            // WAL archived after the daemon started reaches the mirror by itself, byte for byte.
            lab.lab().insertRows(5);
            String next = lab.lab().switchAndWait();
            waitFor(next + " in the mirror", Duration.ofSeconds(60), () -> Files.isRegularFile(mirror.resolve(next)));
            assertArrayEquals(
                    Files.readAllBytes(lab.lab().archive().resolve(next)), Files.readAllBytes(mirror.resolve(next)));
            try (java.util.stream.Stream<Path> files = Files.list(mirror)) {
                assertTrue(
                        files.map(p -> p.getFileName().toString())
                                .filter(n -> n.matches("[0-9A-F]{24}"))
                                .allMatch(n -> n.compareTo(first) >= 0),
                        "nothing from before the newest set's redo segment");
            }
        } finally {
            System.clearProperty("zpitr.mirror.every.ms");
        }
    }

    @Test
    void aScheduledSnapshotIsTakenAuditedRecordedAndToldToSystemd() throws Exception {
        Path config = lab.config(dir, "sched", lab.datasets(), "schedule:\n  snapshot: \"*/3 * * * * ?\"\n");
        try (NotifySocket socket = NotifySocket.bind(dir.resolve("notify.sock"))) {
            SystemdNotifierTest.LibC.INSTANCE.setenv(
                    "NOTIFY_SOCKET", socket.path().toString(), 1);
            Daemon daemon = start(
                    config,
                    new RetryPolicy(List.of(Duration.ofSeconds(1))),
                    SystemdNotifier.forThisProcess(socket.path().toString()),
                    Optional.of(Duration.ofMillis(200)));

            String ready = socket.await(m -> m.startsWith("READY=1"), Duration.ofSeconds(10));
            assertTrue(ready.contains("STATUS=next snapshot "), ready);
            assertTrue(ready.contains("prune not scheduled"), ready);
            socket.await(m -> m.equals("WATCHDOG=1"), Duration.ofSeconds(5));

            waitFor(
                    "two scheduled snapshot sets",
                    Duration.ofSeconds(30),
                    () -> sets("sched").size() >= 2);
            String after = socket.await(m -> m.startsWith("STATUS=last snapshot ok"), Duration.ofSeconds(10));
            assertTrue(after.contains("next snapshot"), after);

            daemon.stop("test");
            running = null;
            socket.await(m -> m.startsWith("STOPPING=1"), Duration.ofSeconds(5));
        }
        List<String> ids = sets("sched");
        assertTrue(ids.size() >= 2, ids.toString());
        for (String id : ids) {
            assertTrue(id.matches("sched-\\d{8}T\\d{6}Z"), id);
            assertTrue(
                    POOL.zfs("list", "-H", "-o", "name", "-t", "snapshot").contains(POOL.name() + "/pg/tblspc1@" + id),
                    "the whole set: " + id);
        }
        List<AuditRecord> snapshots = audit("snapshot");
        assertEquals(ids.size(), snapshots.size(), snapshots.toString());
        for (AuditRecord r : snapshots) {
            assertEquals(List.of("daemon", "snapshot-job"), r.command());
            assertEquals(Outcome.OK, r.outcome());
            assertEquals("schedule", r.details().get("trigger").asText());
            assertTrue(ids.contains(r.details().get("id").asText()), r.details().toString());
        }
        ScheduleState.JobRun last = job(JobKind.SNAPSHOT).orElseThrow();
        assertEquals(ScheduleState.Outcome.OK, last.outcome());
        assertEquals("schedule", last.trigger());
        assertTrue(ids.contains(last.result()), last.toString());
        assertFalse(Files.exists(state().resolve(DaemonLock.PID_FILE)), "a clean stop removes the pid file");
        assertTrue(new AuditLog(state().resolve("audit.jsonl")).verify().intact());

        StringWriter out = new StringWriter();
        assertEquals(
                0,
                Main.run(
                        new String[] {"--config", config.toString(), "list", "--format", "csv"},
                        new PrintWriter(out, true),
                        new PrintWriter(new StringWriter(), true)));
        for (String id : ids) {
            assertTrue(out.toString().contains(id + ","), "zpitr list shows " + id + ": " + out);
        }
    }

    @Test
    void aFirstStartRecordsABaselineTakesNothingAndKeepsASecondDaemonOut() throws Exception {
        Path config = lab.config(
                dir, "first", lab.datasets(), "schedule:\n  snapshot: \"0 0 1 1 *\"\n  prune: \"30 0 1 1 *\"\n");
        Instant before = Instant.now();
        start(config, RetryPolicy.DEFAULT);

        for (JobKind k : List.of(JobKind.SNAPSHOT, JobKind.PRUNE)) { // the jobs this config schedules
            ScheduleState.JobRun baseline = job(k).orElseThrow();
            assertEquals(ScheduleState.Outcome.NONE, baseline.outcome());
            assertEquals("baseline", baseline.trigger());
            assertFalse(baseline.lastRun().isBefore(before.truncatedTo(ChronoUnit.MILLIS)), baseline.toString());
        }
        assertEquals(
                Long.toString(ProcessHandle.current().pid()),
                Files.readString(state().resolve(DaemonLock.PID_FILE)).strip());

        Appliance again = new Appliance(ConfigLoader.load(config), new ProcessRunner(), Clock.systemUTC());
        Daemon second = new Daemon(
                again, new Daemon.Options(RetryPolicy.DEFAULT, SystemdNotifier.forThisProcess(null), Optional.empty()));
        ZpitrException refused = assertThrows(ZpitrException.class, second::start);
        assertEquals(ZpitrError.LOCKED, refused.error());
        assertTrue(refused.getMessage().contains("another zpitr daemon is running"), refused.getMessage());
        assertTrue(
                refused.getMessage().contains("(pid " + ProcessHandle.current().pid() + ")"), refused.getMessage());

        StringWriter out = new StringWriter();
        assertEquals(
                0,
                Main.run(
                        new String[] {"--config", config.toString(), "status", "--format", "json"},
                        new PrintWriter(out, true),
                        new PrintWriter(new StringWriter(), true)));
        JsonNode status = new ObjectMapper().readTree(out.toString());
        assertTrue(status.get("daemon").get("running").asBoolean(), out.toString());
        assertEquals(
                ProcessHandle.current().pid(), status.get("daemon").get("pid").asLong());
        assertEquals(
                "none", status.get("jobs").get(0).get("last_run").get("outcome").asText());
        assertEquals(
                "2027-01-01T00:00:00Z".substring(4),
                status.get("jobs").get(0).get("next_run").asText().substring(4),
                "next run: 1 January, 00:00 UTC");

        running.stop("test");
        running = null;
        assertTrue(sets("first").isEmpty(), "nothing was due: " + sets("first"));
        assertTrue(audit().isEmpty(), audit().toString());
    }

    @Test
    void aRunMissedWhileTheDaemonWasDownIsMadeUpOnceAtStartUp() throws Exception {
        String daily = dailyAnHourAgo();
        Path config = lab.config(
                dir,
                "missed",
                lab.datasets(),
                "schedule:\n  snapshot: \"" + daily + "\"\n  prune: \"" + daily + "\"\n");
        // Three daily runs were missed: one catch-up, not three.
        lastRanAgo(Duration.ofDays(3), JobKind.SNAPSHOT, JobKind.PRUNE);
        start(config, RetryPolicy.DEFAULT);

        waitFor(
                "the catch-up of snapshot and prune",
                Duration.ofSeconds(60),
                () -> job(JobKind.PRUNE)
                        .map(r -> r.outcome() == ScheduleState.Outcome.OK
                                && r.trigger().equals("catch-up"))
                        .orElse(false));
        running.stop("test"); // waits for anything running: nothing can be taken after this
        running = null;

        List<String> ids = sets("missed");
        assertEquals(1, ids.size(), ids.toString());
        ScheduleState.JobRun snapshot = job(JobKind.SNAPSHOT).orElseThrow();
        ScheduleState.JobRun prune = job(JobKind.PRUNE).orElseThrow();
        assertEquals(ScheduleState.Outcome.OK, snapshot.outcome());
        assertEquals("catch-up", snapshot.trigger());
        assertEquals(ids.get(0), snapshot.result());
        assertFalse(
                prune.lastRun().isBefore(snapshot.finished()),
                "prune runs after the snapshot: " + snapshot + " " + prune);
        assertEquals("0 set(s) destroyed, 1 kept", prune.result());
        List<AuditRecord> audited = audit("snapshot");
        assertEquals(1, audited.size(), audited.toString());
        assertEquals("catch-up", audited.get(0).details().get("trigger").asText());
        assertEquals(ids.get(0), audited.get(0).details().get("id").asText());
    }

    @Test
    void aFailingJobIsAuditedRecordedAndRetriedUntilItSucceeds() throws Exception {
        String late = POOL.name() + "/late";
        Path config = lab.config(dir, "late", List.of(late), "schedule:\n  snapshot: \"" + dailyAnHourAgo() + "\"\n");
        lastRanAgo(Duration.ofDays(1), JobKind.SNAPSHOT);
        start(config, new RetryPolicy(List.of(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(3))));

        waitFor(
                "a recorded failure",
                Duration.ofSeconds(30),
                () -> job(JobKind.SNAPSHOT)
                        .map(r -> r.outcome() == ScheduleState.Outcome.FAILED)
                        .orElse(false));
        ScheduleState.JobRun failed = job(JobKind.SNAPSHOT).orElseThrow();
        assertTrue(failed.error().contains(late), failed.toString());
        assertNotNull(failed.nextRetry(), "a retry is pending: " + failed);
        AuditRecord failure = audit("job_failure").get(0);
        assertEquals(Outcome.FAILED, failure.outcome());
        assertEquals(List.of("daemon", "snapshot-job"), failure.command());
        assertEquals("snapshot", failure.details().get("job").asText());
        assertTrue(
                failure.details().get("error").asText().contains(late),
                failure.details().toString());
        assertEquals(
                failed.nextRetry().toString(), failure.details().get("retry_at").asText());
        AuditRecord snapshotFailed = audit("snapshot").get(0);
        assertEquals(
                Outcome.FAILED, snapshotFailed.outcome(), "the snapshot line says failed, as zpitr snapshot's would");

        // The missing dataset appears (a pool imported late): a retry succeeds.
        POOL.zfs("create", late);
        waitFor(
                "a successful retry",
                Duration.ofSeconds(30),
                () -> job(JobKind.SNAPSHOT)
                        .map(r -> r.outcome() == ScheduleState.Outcome.OK)
                        .orElse(false));
        ScheduleState.JobRun ok = job(JobKind.SNAPSHOT).orElseThrow();
        assertTrue(ok.trigger().startsWith("retry "), ok.toString());
        assertNull(ok.nextRetry());
        assertEquals(List.of(ok.result()), sets2(late, "late"));
        List<AuditRecord> snapshots = audit("snapshot");
        AuditRecord success = snapshots.get(snapshots.size() - 1);
        assertEquals(Outcome.OK, success.outcome());
        assertEquals(ok.trigger(), success.details().get("trigger").asText());
        for (AuditRecord r : audit("job_failure")) {
            assertEquals(Outcome.FAILED, r.outcome());
        }
    }

    private static List<String> sets2(String dataset, String prefix) {
        return POOL.zfs("list", "-H", "-t", "snapshot", "-o", "name")
                .lines()
                .filter(l -> l.startsWith(dataset + "@" + prefix + "-"))
                .map(l -> l.substring(l.indexOf('@') + 1))
                .toList();
    }

    @Test
    void whenRetriesRunOutTheFailureStaysRecordedAndIsNeverReportedAsSuccess() throws Exception {
        String never = POOL.name() + "/never";
        Path config = lab.config(dir, "never", List.of(never), "schedule:\n  snapshot: \"" + dailyAnHourAgo() + "\"\n");
        lastRanAgo(Duration.ofDays(1), JobKind.SNAPSHOT);
        start(config, new RetryPolicy(List.of(Duration.ofMillis(300), Duration.ofMillis(300))));

        waitFor(
                "the last retry's failure",
                Duration.ofSeconds(30),
                () -> job(JobKind.SNAPSHOT)
                        .map(r -> r.outcome() == ScheduleState.Outcome.FAILED && r.attempt() == 2)
                        .orElse(false));
        ScheduleState.JobRun last = job(JobKind.SNAPSHOT).orElseThrow();
        assertEquals("retry 2 of 2", last.trigger());
        assertNull(last.nextRetry(), "no retry left: " + last);
        List<AuditRecord> failures = audit("job_failure");
        assertEquals(3, failures.size(), failures.toString());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, failures.get(i).details().get("attempt").asInt());
            assertEquals(Outcome.FAILED, failures.get(i).outcome());
        }
        assertTrue(failures.get(2).details().get("retry_at").isNull());
        assertTrue(audit("snapshot").stream().allMatch(r -> r.outcome() == Outcome.FAILED));
        assertTrue(running.statusLine().contains("last snapshot failed"), running.statusLine());
    }

    @Test
    void sigtermLetsTheRunningSnapshotFinishAndExitsZero() throws Exception {
        Path config = lab.config(dir, "term", lab.datasets(), "schedule:\n  snapshot: \"*/2 * * * * ?\"\n");
        Path log = dir.resolve("daemon.log");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        try (NotifySocket socket = NotifySocket.bind(dir.resolve("notify.sock"))) {
            ProcessBuilder builder = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-cp",
                            classpath,
                            "io.zpitr.appliance.cli.Main",
                            "--config",
                            config.toString(),
                            "daemon")
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            builder.environment().put("NOTIFY_SOCKET", socket.path().toString());
            builder.environment().put("WATCHDOG_USEC", "1000000");
            builder.environment().remove("WATCHDOG_PID");
            Process daemon = builder.start();
            try {
                socket.await(m -> m.startsWith("READY=1"), Duration.ofSeconds(60));
                socket.await(m -> m.equals("WATCHDOG=1"), Duration.ofSeconds(10));
                waitFor(
                        "a snapshot job under way",
                        Duration.ofSeconds(30),
                        () -> read(log).contains("snapshot job started"));
                daemon.destroy(); // SIGTERM
                assertTrue(daemon.waitFor(90, TimeUnit.SECONDS), "the daemon exits after SIGTERM:\n" + read(log));
                assertEquals(0, daemon.exitValue(), read(log));
            } finally {
                daemon.destroyForcibly();
            }
            String text = read(log);
            assertTrue(text.contains("zpitr daemon stopping (SIGTERM)"), text);
            assertTrue(text.contains("zpitr daemon stopped"), text);
            assertTrue(
                    socket.messages().stream().anyMatch(m -> m.startsWith("STOPPING=1")),
                    socket.messages().toString());
        }
        ScheduleState.JobRun last = job(JobKind.SNAPSHOT).orElseThrow();
        assertEquals(ScheduleState.Outcome.OK, last.outcome(), "the job under way finished before the exit: " + last);
        assertTrue(sets("term").contains(last.result()), last.toString());
        assertFalse(Files.exists(state().resolve(DaemonLock.PID_FILE)));
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
