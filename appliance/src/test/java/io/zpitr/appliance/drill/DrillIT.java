package io.zpitr.appliance.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.cli.ZpitrProcess;
import io.zpitr.appliance.cli.ZpitrRun;
import io.zpitr.appliance.wal.WalLab;
import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Restore drills on real components: a PostgreSQL 15 standby on a zfs-fuse dataset fed by
 * {@code zpitr wal-fetch}, one clean snapshot set, and one taken after a heap page of a table with
 * an index was overwritten in the standby's data directory. The clean set's drill passes; the
 * damaged set's fails, naming the table; both leave their evidence on the set and in the audit log,
 * and no clone or process behind. The first two tests drill them through {@code zpitr daemon}'s
 * {@code schedule.drill} job, the others through {@code zpitr drill}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DrillIT {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.ofSize(512L << 20);

    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final ProcessRunner RUNNER = new ProcessRunner();
    static WalLab lab;
    static PostgresCluster standby;
    static Path config;
    static Path mountRoot;
    static String cleanSet;
    static String damagedSet;
    static final String[] CHECKS = {
        "{name: orders, database: postgres, sql: \"select count(*) from orders\", expect: \"> 1000\"}",
        "{name: first-note, database: postgres, sql: \"select note from orders where id = 1\", expect: \"= 'order 1'\"}"
    };

    @BeforeAll
    static void aCleanAndADamagedSet() throws Exception {
        lab = new WalLab();
        PostgresCluster primary = lab.primary();
        primary.psql("create table orders (id int primary key, note text)");
        primary.psql("insert into orders select g, 'order ' || g from generate_series(1, 2000) g");
        lab.insertRows(10);

        String pool = POOL.name();
        POOL.zfs("create", pool + "/pg");
        POOL.zfs("create", pool + "/pg/data");
        Path pgdata = POOL.mountpoint().resolve("pg/data/pgdata");
        RUNNER.run(Command.of(
                        "chown",
                        "-R",
                        "postgres:postgres",
                        POOL.mountpoint().resolve("pg").toString()))
                .requireSuccess();
        RUNNER.run(Command.of(primary.asPostgres(
                                "pg_basebackup",
                                "-h",
                                primary.socketDir().toString(),
                                "-p",
                                Integer.toString(primary.port()),
                                "-U",
                                "postgres",
                                "-D",
                                pgdata.toString(),
                                "-X",
                                "none",
                                "-c",
                                "fast"))
                        .timeout(Duration.ofMinutes(3)))
                .requireSuccess();
        Files.createFile(pgdata.resolve("standby.signal"));

        Path home = lab.root().resolve("zpitr");
        Files.createDirectories(home.resolve("state"));
        mountRoot = POOL.mountpoint().resolve("restore");
        config = home.resolve("zpitr.yaml");
        Files.writeString(config, configText(pgdata, null, CHECKS));
        RUNNER.run(Command.of("chown", "-R", "postgres:postgres", home.toString()))
                .requireSuccess();

        standby = PostgresCluster.builder()
                .dataDir(pgdata)
                .initdb(false)
                .setting("restore_command", LAUNCHER + " --config " + config + " wal-fetch %f %p")
                .setting("hot_standby", "on")
                .build();
        standby.start();
        lab.switchAndWaitFor(standby);
        Files.writeString(config, configText(pgdata, standby, CHECKS));

        cleanSet = zpitr("snapshot", "--label", "clean").assertSucceeded().lastLine();
        lab.insertRows(1); // a switch after no write is a no-op: the archive would end where the set is consistent
        lab.switchAndWaitFor(standby);

        // The damage: the header of the table's second page overwritten while the standby is down,
        // after its shutdown checkpoint, so neither its buffers nor WAL replay write the page again.
        String file = primary.psql("select pg_relation_filepath('orders')");
        standby.stop();
        try (RandomAccessFile f = new RandomAccessFile(pgdata.resolve(file).toFile(), "rw")) {
            f.seek(8192 + 8);
            f.write("garbage!garbage!".getBytes(StandardCharsets.US_ASCII));
        }
        standby.start();
        Thread.sleep(1100); // another second: the set's id carries the time to the second
        damagedSet = zpitr("snapshot", "--label", "damaged").assertSucceeded().lastLine();
        lab.insertRows(1);
        lab.switchAndWaitFor(standby);
    }

    static String configText(Path pgdata, PostgresCluster running, String... checks) {
        StringBuilder c = new StringBuilder("timezone: UTC\nstate_dir: " + config.resolveSibling("state") + "\n"
                + "zfs:\n  datasets: [" + POOL.name() + "/pg/data]\n"
                + "postgres:\n  bin_dir: /usr/lib/postgresql/15/bin\n  data_dir: " + pgdata
                + "\n  os_user: postgres\n");
        if (running != null) {
            c.append("  standby: {host: ")
                    .append(running.socketDir())
                    .append(", port: ")
                    .append(running.port())
                    .append(", user: postgres}\n");
        }
        c.append("archive:\n  prefetch: 4\n  sources:\n    - {name: nfs, type: local, path: ")
                .append(lab.archive())
                .append("}\n")
                .append("restore:\n  dataset_root: ")
                .append(POOL.name())
                .append("/restore\n  mount_root: ")
                .append(mountRoot)
                .append("\n  port: 27432\n")
                .append("audit:\n  log: ")
                .append(lab.root().resolve("audit.jsonl"))
                .append("\n");
        if (checks.length > 0) {
            c.append("drill:\n  checks:\n");
            for (String check : checks) {
                c.append("    - ").append(check).append('\n');
            }
        }
        return c.toString();
    }

    @AfterAll
    static void stop() throws IOException, InterruptedException {
        if (config != null) {
            for (String line :
                    POOL.zfs("list", "-H", "-o", "name", "-r", POOL.name()).split("\n")) {
                if (line.matches(".*/restore/drill-[0-9-]+")) {
                    zpitr("restore-drop", line.substring(line.lastIndexOf('/') + 1));
                }
            }
            WalLab.stopZpitrProcesses(config);
        }
        if (standby != null) {
            standby.close();
        }
        if (lab != null) {
            lab.close();
        }
    }

    static ZpitrRun zpitr(String... args) {
        return ZpitrRun.withConfig(config, args);
    }

    static ZpitrRun zpitrWith(Path otherConfig, String... args) {
        return ZpitrRun.withConfig(otherConfig, args);
    }

    static JsonNode listed(String id) throws Exception {
        for (JsonNode s : new ObjectMapper()
                .readTree(zpitr("list", "--format", "json").assertSucceeded().out())
                .get("snapshot_sets")) {
            if (s.get("id").asText().equals(id)) {
                return s;
            }
        }
        throw new AssertionError("no set " + id);
    }

    static List<JsonNode> drillLines() throws Exception {
        return auditLines("drill");
    }

    static List<JsonNode> auditLines(String event) throws Exception {
        ObjectMapper json = new ObjectMapper();
        return zpitr("audit", "--format", "json")
                .assertSucceeded()
                .out()
                .lines()
                .map(l -> {
                    try {
                        return json.readTree(l);
                    } catch (IOException e) {
                        throw new AssertionError(l, e);
                    }
                })
                .filter(n -> n.path("event").asText().equals(event))
                .toList();
    }

    static void assertNothingLeft() {
        assertFalse(
                POOL.zfs("list", "-H", "-o", "name", "-r", POOL.name()).contains("/restore/drill-"),
                "the drill's clone is gone");
        List<String> left = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(mountRoot.toString()))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .toList();
        assertEquals(List.of(), left, "processes of a drill left running");
    }

    /** The daemon's config: {@code schedule.drill} daily an hour ago (made up once at start-up), a period of 1h. */
    static Path daemonConfig() throws IOException {
        java.time.ZonedDateTime anHourAgo =
                java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).minusHours(1);
        Path daemon = config.resolveSibling("daemon.yaml");
        Files.writeString(
                daemon,
                configText(standby.dataDir(), standby, CHECKS) + "  prove_within: 1h\nschedule:\n  drill: \""
                        + anHourAgo.getMinute() + " " + anHourAgo.getHour() + " * * *\"\n");
        // The last scheduled drill ran a day ago: the run due an hour ago is made up once, at start-up.
        Instant dayAgo = Instant.now().minus(Duration.ofDays(1));
        Files.writeString(
                config.resolveSibling("state").resolve("schedule-state.json"),
                "{\"format\": 1, \"jobs\": {\"drill\": {\"last_run\": \"" + dayAgo
                        + "\", \"outcome\": \"ok\", \"finished\": \"" + dayAgo.plusSeconds(1)
                        + "\", \"trigger\": \"schedule\", \"attempt\": 0, \"result\": \"earlier\","
                        + " \"error\": null, \"next_retry\": null}}}\n");
        return daemon;
    }

    /**
     * Runs {@code zpitr daemon} until its catch-up drill ends as {@code outcome} ("ok" or "failed"),
     * then stops it with SIGTERM as systemd does (exit 0); returns what it logged.
     */
    static String daemonUntilTheDrillJob(Path daemonConfig, String outcome) throws Exception {
        Path log = lab.root().resolve("daemon-" + outcome + ".log");
        ZpitrProcess daemon = ZpitrProcess.start(daemonConfig, log, "daemon");
        try {
            ZpitrProcess.await(
                    () -> daemon.output().contains("drill job ok")
                            || daemon.output().contains("drill job failed")
                            || !daemon.isAlive(),
                    Duration.ofMinutes(4),
                    "the daemon's drill job to end");
            assertTrue(daemon.output().contains("drill job " + outcome), daemon.output());
            JsonNode status = new ObjectMapper()
                    .readTree(ZpitrRun.withConfig(daemonConfig, "status", "--format", "json")
                            .assertSucceeded()
                            .out());
            assertEquals(daemon.pid(), status.get("daemon").get("pid").asLong(), "status sees the daemon running");
            assertEquals(0, daemon.terminate(Duration.ofSeconds(90)), daemon.output());
        } finally {
            if (daemon.isAlive()) {
                daemon.kill();
            }
            WalLab.stopZpitrProcesses(daemonConfig); // a prefetcher it may have started for the standby
        }
        assertTrue(daemon.output().contains("zpitr daemon stopped"), daemon.output());
        return daemon.output();
    }

    static JsonNode drillJob(Path daemonConfig) throws Exception {
        for (JsonNode j : new ObjectMapper()
                .readTree(ZpitrRun.withConfig(daemonConfig, "status", "--format", "json")
                        .assertSucceeded()
                        .out())
                .get("jobs")) {
            if (j.get("name").asText().equals("drill")) {
                return j;
            }
        }
        throw new AssertionError("no drill job in status");
    }

    static String metric(String name) throws IOException {
        return Files.readAllLines(config.resolveSibling("state").resolve("zpitr.prom")).stream()
                .filter(l -> l.startsWith(name + " "))
                .map(l -> l.substring(name.length() + 1))
                .findFirst()
                .orElse(null);
    }

    /**
     * {@code zpitr daemon} with {@code schedule.drill}: its run drills the set the rotation picks (both
     * never drilled: the older, the clean one) and proves it; list, status, the audit log and the
     * metrics show it, with the damaged set overdue for {@code prove_within}. The drill left the live
     * standby as it was (still a standby on timeline 1, still replaying) and archived nothing.
     */
    @Test
    @Order(1)
    void theDaemonsDrillJobProvesTheSetItsRotationPicks() throws Exception {
        Path daemon = daemonConfig();
        String log = daemonUntilTheDrillJob(daemon, "ok");
        assertTrue(
                // 2 of 2 as it starts (1 of 2 should the catch-up drill end first)
                log.matches("(?s).*drills: [12] of 2 set\\(s\\) overdue \\(prove_within 1h\\); WARNING: schedule.drill"
                        + " runs no drill within 1h.*"),
                "the daemon says at start that its schedule cannot keep up: " + log);
        assertNothingLeft();

        JsonNode job = drillJob(daemon);
        assertEquals("ok", job.get("last_run").get("outcome").asText(), job.toString());
        assertEquals("catch-up", job.get("last_run").get("trigger").asText());
        assertTrue(
                job.get("last_run").get("result").asText().startsWith("drill of " + cleanSet + " passed in "),
                job.toString());

        JsonNode clean = listed(cleanSet);
        assertEquals("passed", clean.get("verified_outcome").asText());
        JsonNode damaged = listed(damagedSet);
        assertTrue(damaged.get("verified_at").isNull(), "the daemon drilled one set: " + damaged);
        ZpitrRun list = zpitrWith(daemon, "list");
        assertTrue(
                list.out()
                        .lines()
                        .anyMatch(l -> l.startsWith(cleanSet) && l.contains(" passed ") && !l.contains("OVERDUE")),
                list.out());
        assertTrue(
                list.out().lines().anyMatch(l -> l.startsWith(damagedSet) && l.contains("never OVERDUE")), list.out());
        assertEquals(
                List.of("false", "true"),
                new ObjectMapper()
                                .readTree(zpitrWith(daemon, "list", "--format", "json")
                                        .out())
                                .get("snapshot_sets")
                                .findValues("overdue")
                                .stream()
                                .map(JsonNode::asText)
                                .toList(),
                "overdue per set in JSON: the clean set proven, the damaged never drilled");
        // A daily drill runs no drill within 1h: the schedule cannot keep up with the period.
        assertTrue(
                zpitrWith(daemon, "status")
                        .out()
                        .lines()
                        .anyMatch(l -> l.matches("drill +1 of 2 set\\(s\\) overdue \\(prove_within 1h\\); WARNING:"
                                + " schedule.drill runs no drill within 1h")),
                zpitrWith(daemon, "status").out());

        JsonNode drills = new ObjectMapper()
                .readTree(zpitrWith(daemon, "status", "--format", "json")
                        .assertSucceeded()
                        .out())
                .get("drills");
        assertEquals("1h", drills.get("prove_within").asText(), drills.toString());
        assertEquals(damagedSet, drills.get("overdue_sets").get(0).asText(), drills.toString());
        assertEquals(1, drills.get("overdue").asInt(), drills.toString());
        assertFalse(drills.get("keeps_up").asBoolean(), drills.toString());
        JsonNode report = new ObjectMapper()
                .readTree(zpitrWith(daemon, "report", "--format", "json")
                        .assertSucceeded()
                        .out());
        JsonNode overdueInReport = report.get("drill_coverage").get("overdue_sets");
        assertEquals(1, overdueInReport.size(), report.get("drill_coverage").toString());
        assertEquals(damagedSet, overdueInReport.get(0).asText());
        assertEquals(
                List.of("false", "true"),
                report.get("snapshot_sets").findValues("overdue").stream()
                        .map(JsonNode::asText)
                        .toList(),
                "the report's overdue per set");

        JsonNode line = drillLines().stream()
                .filter(n -> n.path("command").toString().equals("[\"daemon\",\"drill-job\"]"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no drill audit line from the daemon"));
        assertEquals("ok", line.path("outcome").asText(), line.toString());
        assertEquals(cleanSet, line.path("details").path("snapshot").asText());
        assertEquals("passed", line.path("details").path("result").asText());

        assertEquals("1", metric("zpitr_last_drill_passed"));
        assertTrue(Math.abs(Long.parseLong(metric("zpitr_last_drill_timestamp_seconds"))
                        - Instant.now().getEpochSecond())
                < 600);
        assertEquals("1", metric("zpitr_drill_overdue_sets"));
        assertEquals("0", metric("zpitr_job_failures_total{job=\"drill\"}"));

        // The live standby: still in recovery on timeline 1 with its standby.signal, and still replaying.
        assertEquals("t", standby.psql("select pg_is_in_recovery()"));
        assertEquals("1", standby.psql("select timeline_id from pg_control_checkpoint()"));
        assertTrue(Files.exists(standby.dataDir().resolve("standby.signal")));
        lab.insertRows(1);
        lab.switchAndWaitFor(standby);
        // The drill promoted its clone to a new timeline: nothing of it reached the archive.
        try (var files = Files.walk(lab.archive())) {
            List<String> foreign = files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".history") || n.matches("0000000[2-9A-F].*"))
                    .toList();
            assertEquals(List.of(), foreign, "files a drill's timeline would have archived");
        }
    }

    /**
     * The next run drills the set that is overdue (never drilled), whose table is damaged: a failed
     * job, named with the relation pg_amcheck reported, in status, the audit log and the metrics;
     * nothing of the drill left running.
     */
    @Test
    @Order(2)
    void aDrillThatFindsCorruptionIsAFailedJob() throws Exception {
        Path daemon = daemonConfig();
        daemonUntilTheDrillJob(daemon, "failed");
        assertNothingLeft();

        JsonNode run = drillJob(daemon).get("last_run");
        assertEquals("failed", run.get("outcome").asText(), run.toString());
        assertTrue(run.get("error").asText().startsWith("drill of " + damagedSet + " failed in "), run.toString());
        assertTrue(run.get("error").asText().contains("heap table \"postgres.public.orders\""), run.toString());
        assertTrue(
                zpitrWith(daemon, "status")
                        .out()
                        .lines()
                        .anyMatch(l ->
                                l.startsWith("job drill") && l.contains("last run FAILED") && l.contains(damagedSet)),
                zpitrWith(daemon, "status").out());
        assertEquals("failed", listed(damagedSet).get("verified_outcome").asText());
        List<JsonNode> failures = auditLines("job_failure");
        assertEquals(1, failures.size(), failures.toString());
        assertEquals("drill", failures.get(0).path("details").path("job").asText());
        assertTrue(drillLines().stream()
                .anyMatch(n -> n.path("command").toString().equals("[\"daemon\",\"drill-job\"]")
                        && n.path("outcome").asText().equals("failed")
                        && n.path("details").path("snapshot").asText().equals(damagedSet)));

        assertEquals("0", metric("zpitr_last_drill_passed"));
        assertEquals("1", metric("zpitr_job_failures_total{job=\"drill\"}"));
        assertEquals("1", metric("zpitr_drill_overdue_sets"), "a failed drill proves nothing: still overdue");
    }

    @Test
    @Order(3)
    void aCleanSetPassesAndIsMarkedVerified() throws Exception {
        ZpitrRun r = zpitr("drill", "--snapshot", cleanSet);
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("pg_amcheck found no corruption in any database"), r.out());
        assertTrue(
                r.out()
                        .lines()
                        .anyMatch(l -> l.startsWith("orders") && l.contains("passed") && l.contains("returned '2000'")),
                r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("first-note") && l.contains("passed")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("target") && l.contains("passed")), r.out());
        assertTrue(r.out().contains("outcome:  passed"), r.out());
        assertTrue(r.out().contains("timings:  queryable "), r.out());
        assertNothingLeft();

        JsonNode set = listed(cleanSet);
        assertEquals("passed", set.get("verified_outcome").asText());
        assertFalse(set.get("verified_at").isNull());
        assertTrue(
                zpitr("list").out().lines().anyMatch(l -> l.startsWith(cleanSet) && l.contains(" passed ")),
                "list's VERIFIED column");
        assertEquals(
                "passed",
                POOL.zfs("get", "-H", "-o", "value", "zpitr:verified_outcome", POOL.name() + "/pg/data@" + cleanSet)
                        .strip());

        JsonNode line = drillLines().stream()
                .filter(n -> n.path("details").path("snapshot").asText().equals(cleanSet)
                        && n.path("outcome").asText().equals("ok"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no drill audit line"));
        assertTrue(line.path("details").path("amcheck_digest").asText().startsWith("sha256:"), line.toString());
        assertEquals(4, line.path("details").path("checks").size(), line.toString());
        assertEquals(0, zpitr("audit", "--verify").code());
    }

    @Test
    @Order(4)
    void aDamagedTableFailsTheDrillNamingIt() throws Exception {
        ZpitrRun r = zpitr("drill", "--snapshot", damagedSet, "--format", "json");
        assertEquals(1, r.code(), r.out() + r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals("failed", doc.get("result").asText());
        JsonNode amcheck = null;
        for (JsonNode c : doc.get("checks")) {
            if (c.get("name").asText().equals("amcheck")) {
                amcheck = c;
            }
        }
        assertEquals("failed", amcheck.get("status").asText(), doc.toString());
        assertTrue(
                amcheck.get("detail").asText().contains("heap table \"postgres.public.orders\""), amcheck.toString());
        assertNothingLeft();
        assertEquals("failed", listed(damagedSet).get("verified_outcome").asText());
        assertTrue(drillLines().stream()
                .anyMatch(n -> n.path("details").path("snapshot").asText().equals(damagedSet)
                        && n.path("outcome").asText().equals("failed")));
    }

    @Test
    @Order(5)
    void badInputIsRefusedClearlyAndLeavesNothing() throws Exception {
        Path pgdata = standby.dataDir();
        Path badExpect = config.resolveSibling("bad-expect.yaml");
        Files.writeString(
                badExpect,
                configText(
                        pgdata,
                        standby,
                        "{name: orders, database: postgres, sql: \"select count(*) from orders\", expect: \"about 2000\"}"));
        ZpitrRun r = zpitrWith(badExpect, "drill", "--snapshot", cleanSet);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("drill check 'orders': unknown check expectation \"about 2000\""), r.err());
        assertTrue(r.err().contains("HINT:"), r.err());

        ZpitrRun unknown = zpitr("drill", "--snapshot", "zpitr-20000101T000000Z");
        assertEquals(3, unknown.code(), unknown.out() + unknown.err());
        assertTrue(unknown.err().contains("no snapshot set 'zpitr-20000101T000000Z'"), unknown.err());

        ZpitrRun ttlWithoutKeep = zpitr("drill", "--ttl", "1h");
        assertEquals(2, ttlWithoutKeep.code(), ttlWithoutKeep.err());
        assertNothingLeft();

        // drill.prove_within is read with the rest of the configuration: a bad period stops every command first.
        Path badPeriod = config.resolveSibling("bad-period.yaml");
        Files.writeString(badPeriod, configText(pgdata, standby, CHECKS) + "  prove_within: monthly\n");
        int drills = drillLines().size();
        ZpitrRun period = zpitrWith(badPeriod, "drill", "--snapshot", cleanSet);
        assertEquals(2, period.code(), period.out() + period.err());
        assertTrue(period.err().contains("drill.prove_within: 'monthly' is not a duration"), period.err());
        ZpitrRun status = zpitrWith(badPeriod, "status");
        assertEquals(2, status.code(), status.out() + status.err());
        assertEquals(drills, drillLines().size(), "nothing was drilled");
        assertNothingLeft();

        Path badSql = config.resolveSibling("bad-sql.yaml");
        Files.writeString(
                badSql,
                configText(
                        pgdata,
                        standby,
                        "{name: missing, database: postgres, sql: \"select count(*) from no_such_table\", expect: \"> 0\"}"));
        ZpitrRun sql = zpitrWith(badSql, "drill", "--snapshot", cleanSet);
        assertEquals(1, sql.code(), sql.out() + sql.err());
        assertTrue(
                sql.out()
                        .lines()
                        .anyMatch(l -> l.startsWith("missing")
                                && l.contains("FAILED")
                                && l.contains("SQL error in database \"postgres\"")),
                sql.out());
        assertTrue(sql.out().contains("relation \"no_such_table\" does not exist"), sql.out());
        assertNothingLeft();
    }

    /** The auditor's report of this appliance, after the drills: in JSON, and as a page chromium renders. */
    @Test
    @Order(6)
    void theReportShowsTheSetsAndTheirDrills() throws Exception {
        JsonNode doc = new ObjectMapper()
                .readTree(zpitr("report", "--format", "json").assertSucceeded().out());
        assertEquals(2, doc.get("snapshot_sets").size(), doc.toString());
        assertTrue(doc.get("drills").size() >= 2, doc.toString());
        assertTrue(doc.get("audit").get("intact").asBoolean(), doc.toString());
        assertEquals(0, doc.get("recoverable_window").get("gaps").size(), doc.toString());
        assertTrue(doc.get("config_digest").asText().startsWith("sha256:"));

        Path html = lab.root().resolve("report.html");
        ZpitrRun r = zpitr("report", "--html", html.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        io.zpitr.appliance.report.ReportBrowserIT.Rendered page =
                io.zpitr.appliance.report.ReportBrowserIT.inChromium(html, lab.root());
        assertTrue(page.dom().contains("id=\"set-" + cleanSet + "\""), page.dom());
        assertTrue(
                page.dom().contains("class=\"drill pass\"") && page.dom().contains("class=\"drill fail\""), page.dom());
        assertTrue(page.dom().contains("id=\"window-band\""));
        assertTrue(page.dom().contains("chain intact"));
        assertTrue(Files.size(page.png()) > 10_000);

        ZpitrRun nowhere = zpitr(
                "report",
                "--html",
                lab.root().resolve("no-such-folder/report.html").toString());
        assertEquals(2, nowhere.code(), nowhere.err());
        assertTrue(nowhere.err().contains("its folder does not exist"), nowhere.err());
    }

    /** A kept drill with a TTL is listed with its expiry and dropped by the daemon's sweep once it passes. */
    @Test
    @Order(7)
    void aKeptDrillExpiresAndTheDaemonsSweepDropsIt() throws Exception {
        ZpitrRun r = zpitr("drill", "--snapshot", cleanSet, "--keep", "--ttl", "2s");
        assertEquals(0, r.code(), r.out() + r.err());
        String name = r.out()
                .lines()
                .filter(l -> l.startsWith("kept:"))
                .findFirst()
                .orElseThrow()
                .replaceAll("^kept:\\s+(drill-[0-9-]+);.*", "$1");
        JsonNode kept = null;
        for (JsonNode x : new ObjectMapper()
                .readTree(
                        zpitr("restores", "--format", "json").assertSucceeded().out())) {
            if (x.get("name").asText().equals(name)) {
                kept = x;
            }
        }
        assertEquals("running", kept.get("state").asText(), kept.toString());
        java.time.Instant expires = java.time.Instant.parse(kept.get("expires").asText());
        assertTrue(zpitr("restores").out().contains(kept.get("expires").asText()), "restores shows the expiry");

        // A sweep a moment before the expiry drops nothing. Its clock is fixed there: with the
        // system clock a sweep begun just before the expiry reads the time after it on a loaded machine.
        io.zpitr.appliance.Appliance before = new io.zpitr.appliance.Appliance(
                io.zpitr.appliance.config.ConfigLoader.load(config),
                RUNNER,
                java.time.Clock.fixed(expires.minusMillis(1), java.time.ZoneOffset.UTC));
        assertEquals(
                List.of(), new io.zpitr.appliance.daemon.ExpiredRestores(before).sweep(), "nothing has expired yet");
        io.zpitr.appliance.Appliance appliance = new io.zpitr.appliance.Appliance(
                io.zpitr.appliance.config.ConfigLoader.load(config), RUNNER, java.time.Clock.systemUTC());
        io.zpitr.appliance.daemon.ExpiredRestores sweep = new io.zpitr.appliance.daemon.ExpiredRestores(appliance);
        while (!java.time.Instant.now().isAfter(expires)) {
            Thread.sleep(100); // the expiry is a point in time: waiting for it is the condition
        }
        List<String> swept = sweep.sweep();
        assertEquals(1, swept.size(), swept.toString());
        assertTrue(swept.get(0).startsWith("dropped restore " + name), swept.toString());
        assertNothingLeft();
        assertTrue(zpitr("audit", "--format", "json")
                .out()
                .lines()
                .anyMatch(l -> l.contains("\"restore_drop\"")
                        && l.contains(name)
                        && l.contains("\"reason\":\"expired\"")
                        && l.contains("\"ok\"")));

        Path badTtl = config.resolveSibling("bad-ttl.yaml");
        Files.writeString(
                badTtl,
                configText(standby.dataDir(), standby)
                        .replace("  port: 27432\n", "  port: 27432\n  default_ttl: soon\n"));
        ZpitrRun refused = zpitrWith(badTtl, "restore", "--immediate", "--name", "rttl");
        assertEquals(2, refused.code(), refused.out() + refused.err());
        assertTrue(refused.err().contains("restore.default_ttl"), refused.err());
        assertNothingLeft();
    }

    /**
     * A set taken now anchors the audit log's head; cutting the log's newest lines back past that
     * line is caught by audit --verify (the chain alone still verifies), and the report says so.
     */
    @Test
    @Order(8)
    void cuttingOffTheNewestAuditLinesIsCaughtByTheAnchors() throws Exception {
        Path log = lab.root().resolve("audit.jsonl");
        long before = Files.readAllLines(log).size();
        String anchored =
                zpitr("snapshot", "--label", "anchor").assertSucceeded().lastLine();
        assertEquals(
                before + ":"
                        + io.zpitr.appliance.audit.AuditRecord.sha256Hex(
                                Files.readAllLines(log).get((int) before - 1).getBytes(StandardCharsets.UTF_8)),
                POOL.zfs("get", "-H", "-o", "value", "zpitr:audit_head", POOL.name() + "/pg/data@" + anchored)
                        .strip());
        ZpitrRun ok = zpitr("audit", "--verify");
        assertEquals(0, ok.code(), ok.out() + ok.err());
        assertTrue(ok.out().contains("audit anchors: ") && ok.out().contains("all in the log"), ok.out());

        byte[] whole = Files.readAllBytes(log);
        try {
            List<String> lines = Files.readAllLines(log);
            Files.writeString(log, String.join("\n", lines.subList(0, (int) before - 1)) + "\n");
            assertTrue(
                    new io.zpitr.appliance.audit.AuditLog(log).verify().intact(),
                    "the shortened chain alone still verifies");
            ZpitrRun cut = zpitr("audit", "--verify");
            assertEquals(1, cut.code(), cut.out() + cut.err());
            assertTrue(
                    cut.err()
                            .contains("snapshot set " + anchored + " anchored line " + before
                                    + " of the audit log, which now has " + (before - 1)
                                    + " line(s): its newest lines were cut off"),
                    cut.err());
            JsonNode report = new ObjectMapper()
                    .readTree(zpitr("report", "--format", "json")
                            .assertSucceeded()
                            .out());
            assertEquals(
                    1,
                    report.get("audit").get("anchor_problems").size(),
                    report.get("audit").toString());
            assertTrue(report.get("audit").get("newest_anchor").asText().startsWith(anchored + ": line " + before));
        } finally {
            Files.write(log, whole);
        }
    }
}
