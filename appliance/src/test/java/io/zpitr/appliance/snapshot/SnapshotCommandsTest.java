package io.zpitr.appliance.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.cli.ZpitrRun;
import io.zpitr.appliance.wal.WalLab;
import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * snapshot, list, hold and release on a real zfs-fuse pool holding a real PostgreSQL 15 standby's
 * data directory and a tablespace dataset.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SnapshotCommandsTest {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.create();

    static WalLab lab;
    static PostgresCluster standby;
    static Path config;
    static final ProcessRunner RUNNER = new ProcessRunner();

    @BeforeAll
    static void standbyOnZfs() throws Exception {
        lab = new WalLab();
        lab.insertRows(500);
        POOL.zfs("create", POOL.name() + "/pg");
        POOL.zfs("create", POOL.name() + "/pg/data");
        POOL.zfs("create", POOL.name() + "/pg/tblspc1");
        Path pgdata = POOL.mountpoint().resolve("pg/data/pgdata");
        RUNNER.run(Command.of(
                        "chown",
                        "-R",
                        "postgres:postgres",
                        POOL.mountpoint().resolve("pg").toString()))
                .requireSuccess();
        RUNNER.run(Command.of(lab.primary()
                                .asPostgres(
                                        "pg_basebackup",
                                        "-h",
                                        lab.primary().socketDir().toString(),
                                        "-p",
                                        Integer.toString(lab.primary().port()),
                                        "-U",
                                        "postgres",
                                        "-D",
                                        pgdata.toString(),
                                        "-X",
                                        "stream",
                                        "-c",
                                        "fast"))
                        .timeout(Duration.ofMinutes(3)))
                .requireSuccess();
        Files.createFile(pgdata.resolve("standby.signal"));
        standby = PostgresCluster.builder()
                .dataDir(pgdata)
                .initdb(false)
                .setting("restore_command", "cp " + lab.archive() + "/%f %p")
                .setting("hot_standby", "on")
                .build()
                .start();
        lab.switchSegments(2, 500);
        waitUntilReplayed();
        config = Files.createTempDirectory("zpitr-snapcfg").resolve("zpitr.yaml");
        Files.writeString(
                config,
                "timezone: Asia/Singapore\n"
                        + "state_dir: " + config.getParent().resolve("state") + "\n"
                        + "zfs:\n  datasets: [" + POOL.name() + "/pg/data, " + POOL.name() + "/pg/tblspc1]\n"
                        + "postgres:\n  bin_dir: /usr/lib/postgresql/15/bin\n  data_dir: " + pgdata + "\n"
                        + "  standby: {host: " + standby.socketDir() + ", port: " + standby.port()
                        + ", user: postgres}\n"
                        + "retention: {keep_within: 0s, hourly: 0, daily: 1, weekly: 0, monthly: 0, yearly: 0}\n");
    }

    static void waitUntilReplayed() throws InterruptedException {
        String target = lab.primary().psql("select pg_current_wal_lsn()");
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!"t".equals(standby.psql("select coalesce(pg_last_wal_replay_lsn() >= '" + target + "', false)"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("standby did not replay to " + target);
            }
            Thread.sleep(100);
        }
    }

    @AfterAll
    static void stop() throws IOException {
        if (standby != null) {
            standby.close();
        }
        lab.close();
    }

    static ZpitrRun zpitr(String... args) {
        return ZpitrRun.withConfig(config, args);
    }

    static String zfsGet(String property, String snapshot) {
        return POOL.zfs("get", "-H", "-p", "-o", "value", property, snapshot).strip();
    }

    static String takenId;

    @Test
    @Order(1)
    void theSnapshotRecordsWhatTheStandbyReported() {
        ZpitrRun r = zpitr("snapshot", "--label", "nightly");
        assertEquals(0, r.code(), r.out() + r.err());
        takenId = r.lastLine();
        assertTrue(takenId.matches("zpitr-\\d{8}T\\d{6}Z-nightly"), takenId);
        // Nothing moves on the primary: the standby still reports the position recorded.
        String[] now = standby.psql(
                        "select (c).timeline_id || ' ' || (c).redo_lsn || ' ' || pg_last_wal_replay_lsn() || ' '"
                                + " || (select system_identifier from pg_control_system()) || ' ' || current_setting('server_version_num')"
                                + " from (select pg_control_checkpoint() c) s")
                .split(" ");
        String data = POOL.name() + "/pg/data@" + takenId;
        String tblspc = POOL.name() + "/pg/tblspc1@" + takenId;
        assertEquals(now[0], zfsGet("zpitr:timeline", data));
        assertEquals(now[1], zfsGet("zpitr:redo_lsn", data));
        assertEquals(now[2], zfsGet("zpitr:replay_lsn", data));
        assertEquals(now[3], zfsGet("zpitr:system_id", data));
        assertEquals(now[4], zfsGet("zpitr:pg_version", data));
        assertEquals("standby", zfsGet("zpitr:pg_source", data));
        assertEquals(
                OffsetDateTime.parse(zfsGet("zpitr:replay_time", data)).toInstant(),
                OffsetDateTime.parse(standby.psql("select to_char(pg_last_xact_replay_timestamp() at time zone 'UTC',"
                                + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"))
                        .toInstant());
        assertEquals("atomic", zfsGet("zpitr:atomicity", data));
        assertEquals(now[1], zfsGet("zpitr:redo_lsn", tblspc), "every snapshot of the set carries the metadata");
        assertTrue(r.out().contains("atomic (recursive snapshot of " + POOL.name() + "/pg)"), r.out());
    }

    @Test
    @Order(2)
    void listShowsTheSetInEveryFormat() throws Exception {
        ZpitrRun table = zpitr("list");
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().contains(takenId), table.out());
        assertTrue(table.out().contains("Recoverable window:"), table.out());
        assertTrue(table.out().contains("standby's last replayed commit"), table.out());

        ZpitrRun json = zpitr("list", "--format", "json");
        assertEquals(0, json.code(), json.err());
        JsonNode doc = new ObjectMapper().readTree(json.out());
        JsonNode set = doc.get("snapshot_sets").get(0);
        assertEquals(takenId, set.get("id").asText());
        assertEquals(
                List.of(POOL.name() + "/pg/data", POOL.name() + "/pg/tblspc1"),
                List.of(
                        set.get("datasets").get(0).asText(),
                        set.get("datasets").get(1).asText()));
        assertEquals(
                zfsGet("zpitr:redo_lsn", POOL.name() + "/pg/data@" + takenId),
                set.get("redo_lsn").asText());
        assertTrue(set.get("atomic").asBoolean());
        assertNotNull(doc.get("recoverable_window").get("earliest").asText());

        ZpitrRun csv = zpitr("list", "--format", "csv");
        assertEquals(2, csv.out().lines().count(), csv.out());
        assertTrue(csv.out().lines().skip(1).findFirst().orElseThrow().startsWith(takenId + ","), csv.out());

        assertEquals(
                1,
                zpitr("list", "--format", "csv", "--until", "2000-01-01 00:00:00")
                        .out()
                        .lines()
                        .count(),
                "--until filters by creation (local time in the configured zone)");
        assertEquals(
                2,
                zpitr("list", "--format", "csv", "--since", "2000-01-01T00:00:00Z")
                        .out()
                        .lines()
                        .count());
        ZpitrRun bad = zpitr("list", "--since", "2026-02-30 10:00:00");
        assertEquals(2, bad.code(), bad.err());
    }

    @Test
    @Order(3)
    void holdsProtectTheSetAndReleaseEndsThem() {
        ZpitrRun hold = zpitr("hold", takenId, "--tag", "legal-2026");
        assertEquals(0, hold.code(), hold.err());
        assertEquals(0, zpitr("hold", takenId, "--tag", "legal-2026").code(), "holding twice is fine");
        assertEquals("1", zfsGet("userrefs", POOL.name() + "/pg/data@" + takenId));
        assertEquals("1", zfsGet("userrefs", POOL.name() + "/pg/tblspc1@" + takenId));
        assertTrue(zpitr("list").out().contains("legal-2026"));
        assertFalse(
                RUNNER.run(Command.of("zfs", "destroy", POOL.name() + "/pg/tblspc1@" + takenId))
                        .succeeded(),
                "ZFS itself refuses to destroy a held snapshot");

        assertEquals(0, zpitr("release", takenId, "--tag", "legal-2026").code());
        assertEquals(0, zpitr("release", takenId, "--tag", "legal-2026").code(), "releasing twice is fine");
        assertEquals("0", zfsGet("userrefs", POOL.name() + "/pg/data@" + takenId));
        assertFalse(zpitr("list").out().contains("legal-2026"));

        ZpitrRun unknown = zpitr("hold", "zpitr-19990101T000000Z", "--tag", "x");
        assertEquals(1, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("no snapshot set"), unknown.err());
        ZpitrRun hostile = zpitr("hold", "x;rm -rf /", "--tag", "x");
        assertEquals(2, hostile.code(), hostile.err());
    }

    @Test
    @Order(4)
    void withTheStandbyDownTheMetadataComesFromPgControldata() throws Exception {
        standby.stop();
        try {
            Thread.sleep(1100); // a new second: snapshot names have one-second resolution
            ZpitrRun r = zpitr("snapshot", "--hold", "keep");
            assertEquals(0, r.code(), r.out() + r.err());
            String id = r.lastLine();
            String data = POOL.name() + "/pg/data@" + id;
            assertEquals("pg_controldata", zfsGet("zpitr:pg_source", data));
            String controldata = RUNNER.run(Command.of(
                                    "/usr/lib/postgresql/15/bin/pg_controldata",
                                    "-D",
                                    standby.dataDir().toString())
                            .environment(java.util.Map.of("LC_ALL", "C")))
                    .requireSuccess()
                    .stdout();
            assertTrue(
                    controldata.contains("Latest checkpoint's REDO location:    " + zfsGet("zpitr:redo_lsn", data)),
                    controldata);
            assertEquals("150000", zfsGet("zpitr:pg_version", data).substring(0, 2) + "0000");
            assertEquals("1", zfsGet("userrefs", data), "--hold held the new set");
            assertEquals(0, zpitr("release", id, "--tag", "keep").code());
        } finally {
            standby.start();
        }
    }

    @Test
    @Order(5)
    void pruneKeepsTheNewestTheHeldAndTheClonedAndAuditsWhatItDestroys() throws Exception {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Thread.sleep(1100);
            ZpitrRun r = zpitr("snapshot", "--label", "p" + i);
            assertEquals(0, r.code(), r.err());
            ids.add(r.lastLine());
        }
        // ids[0] held, ids[1] cloned by a "restore", ids[2] newest; earlier sets are prune candidates.
        assertEquals(0, zpitr("hold", ids.get(0), "--tag", "audit-q4").code());
        POOL.zfs("create", POOL.name() + "/restore");
        POOL.zfs("clone", POOL.name() + "/pg/tblspc1@" + ids.get(1), POOL.name() + "/restore/r1");

        ZpitrRun dry = zpitr("prune", "--dry-run");
        assertEquals(0, dry.code(), dry.err());
        assertTrue(dry.out().contains("would destroy " + takenId), dry.out());
        assertTrue(dry.out().contains("keep     " + ids.get(0) + "  (held"), dry.out());
        assertTrue(dry.out().contains("keep     " + ids.get(1) + "  (has restore clones"), dry.out());
        assertTrue(dry.out().contains("keep     " + ids.get(2) + "  (newest"), dry.out());
        assertTrue(zpitr("list").out().contains(takenId), "a dry run changes nothing");

        ZpitrRun prune = zpitr("prune");
        assertEquals(0, prune.code(), prune.err());
        assertTrue(prune.out().contains("destroyed " + takenId), prune.out());
        String listed = zpitr("list", "--format", "csv").out();
        assertFalse(listed.contains(takenId), listed);
        for (String id : ids) {
            assertTrue(listed.contains(id), id + " survives: " + listed);
        }
        // The driver retries zfs-fuse's transient "dataset is busy" right after a clone.
        io.zpitr.zfs.Zfs.detect(RUNNER, "zfs").destroy(io.zpitr.zfs.DatasetName.of(POOL.name() + "/restore/r1"), false);
        assertEquals(0, zpitr("release", ids.get(0), "--tag", "audit-q4").code());

        ZpitrRun audit = zpitr("audit", "--format", "json");
        assertEquals(0, audit.code(), audit.err());
        assertTrue(
                audit.out().lines().anyMatch(l -> l.contains("\"prune_destroy\"") && l.contains(takenId)), audit.out());
        assertTrue(audit.out().lines().anyMatch(l -> l.contains("\"hold\"") && l.contains("audit-q4")), audit.out());
        assertTrue(
                audit.out().lines().anyMatch(l -> l.contains("\"snapshot\"") && l.contains(ids.get(2))), audit.out());
        ZpitrRun verify = zpitr("audit", "--verify");
        assertEquals(0, verify.code(), verify.out() + verify.err());
        assertTrue(verify.out().contains("intact"), verify.out());
    }

    @Test
    @Order(6)
    void theMetricsTextFileShowsWhatIsRetained() throws Exception {
        io.zpitr.appliance.Appliance appliance = new io.zpitr.appliance.Appliance(
                io.zpitr.appliance.config.ConfigLoader.load(config), RUNNER, java.time.Clock.systemUTC());
        new io.zpitr.appliance.wal.WalFetchCounters(
                        appliance.settings().walFetchCounters(),
                        appliance.settings().archive().spoolDir())
                .count("host25", "ok");
        appliance
                .audit()
                .append(
                        io.zpitr.appliance.audit.AuditEvent.JOB_FAILURE,
                        java.util.List.of("daemon", "prune-job"),
                        io.zpitr.appliance.audit.Outcome.FAILED,
                        java.util.Map.of("job", "prune", "error", "for the counter"));
        new io.zpitr.appliance.daemon.MetricsTextFile(appliance).write();
        String text = Files.readString(appliance.settings().metricsFile());
        int sets = new ObjectMapper()
                .readTree(zpitr("list", "--format", "json").out())
                .get("snapshot_sets")
                .size();
        assertTrue(text.contains("\nzpitr_snapshot_sets " + sets + "\n"), text);
        assertTrue(text.contains("zpitr_last_snapshot_timestamp_seconds "), text);
        assertTrue(text.contains("zpitr_recoverable_window_seconds "), text);
        assertTrue(text.contains("zpitr_wal_fetch_total{source=\"host25\",outcome=\"ok\"} 1"), text);
        assertTrue(text.contains("zpitr_job_failures_total{job=\"snapshot\"} 0"), text);
        assertTrue(text.contains("zpitr_job_failures_total{job=\"prune\"} 1\n"), text);
        assertFalse(text.contains("zpitr_drill_overdue_sets"), "no drill.prove_within, no overdue figure: " + text);
    }
}
