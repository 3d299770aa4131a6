package io.zpitr.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.daemon.JobKind;
import io.zpitr.appliance.daemon.ScheduleState;
import io.zpitr.appliance.daemon.StandbyOnZfs;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.schedule.Schedule;
import io.zpitr.fixtures.Fs;
import io.zpitr.fixtures.SshServer;
import io.zpitr.fixtures.ZfsPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * zpitr status against a real standby on a zfs-fuse pool, its primary, a local archive folder, one
 * live sshd and one stopped one.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StatusCommandTest {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.create();

    static StandbyOnZfs lab;
    static SshServer live;
    static SshServer dead;
    static Path dir;
    static Path config;
    static Path stateDir;
    static String snapshotId;

    @BeforeAll
    static void appliance() throws Exception {
        lab = StandbyOnZfs.start(POOL, List.of());
        live = SshServer.builder().build().start();
        dead = SshServer.builder().build().start();
        dead.stop(); // a real "host down": connections to its address are refused
        dir = Files.createTempDirectory("zpitr-status");
        stateDir = dir.resolve("state");
        config = lab.config(
                dir,
                "zpitr",
                lab.datasets(),
                "archive:\n  connect_timeout: 1s\n  down_for: 60s\n  sources:\n"
                        + "    - {name: nfs, type: local, path: " + lab.lab().archive() + "}\n"
                        + ssh("live", live) + ssh("dead", dead)
                        + "schedule:\n  snapshot: \"1 4 * * *\"\n  prune: \"30 4 * * *\"\n");
    }

    private static String ssh(String name, SshServer host) {
        return "    - {name: " + name + ", type: ssh, host: " + host.address() + ", port: " + host.port() + ", user: "
                + host.user() + ", path: /srv/arch, identity_file: " + host.identityFile() + ", known_hosts: "
                + host.knownHostsFile() + "}\n";
    }

    @AfterAll
    static void stop() throws IOException {
        for (AutoCloseable c : new AutoCloseable[] {live, dead}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // keep closing the rest
            }
        }
        if (lab != null) {
            lab.close();
        }
        if (dir != null) {
            Fs.deleteTree(dir);
        }
    }

    static ZpitrRun zpitr(String... args) {
        return ZpitrRun.withConfig(config, args);
    }

    static JsonNode statusJson() throws IOException {
        ZpitrRun r = zpitr("status", "--format", "json");
        assertEquals(0, r.code(), r.out() + r.err());
        return new ObjectMapper().readTree(r.out());
    }

    static JsonNode source(JsonNode doc, String name) {
        for (JsonNode s : doc.get("archive_sources")) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no source " + name + " in " + doc);
    }

    @Test
    @Order(1)
    void jsonReportsEveryPart() throws Exception {
        ZpitrRun snap = zpitr("snapshot");
        assertEquals(0, snap.code(), snap.err());
        snapshotId = snap.out().lines().reduce((a, b) -> b).orElseThrow();
        Instant snapshotRun = Instant.now().minusSeconds(5);
        ScheduleState state = ScheduleState.read(stateDir);
        state.put(
                JobKind.SNAPSHOT,
                new ScheduleState.JobRun(
                        snapshotRun,
                        ScheduleState.Outcome.OK,
                        snapshotRun.plusSeconds(1),
                        "schedule",
                        0,
                        snapshotId,
                        null,
                        null));
        state.put(
                JobKind.PRUNE,
                new ScheduleState.JobRun(
                        snapshotRun,
                        ScheduleState.Outcome.FAILED,
                        snapshotRun.plusSeconds(1),
                        "retry 1 of 3",
                        1,
                        null,
                        "no retention section",
                        snapshotRun.plusSeconds(300)));

        // Rows in the primary's current segment, not archived yet: the archive-fed standby cannot have them.
        lab.lab().insertRows(200);
        String standbyReplay = lab.standby().psql("select pg_last_wal_replay_lsn()");
        JsonNode doc = statusJson();

        JsonNode standby = doc.get("standby");
        assertTrue(standby.get("reachable").asBoolean(), standby.toString());
        assertTrue(standby.get("in_recovery").asBoolean());
        assertEquals(standbyReplay, standby.get("replay_lsn").asText(), "nothing moves on the primary meanwhile");
        assertTrue(standby.get("replay_lag_seconds").isNumber(), standby.toString());
        assertTrue(standby.get("replay_lag_seconds").asDouble() >= 0);
        assertNotNull(Instant.parse(standby.get("last_replayed_commit").asText()));

        JsonNode primary = doc.get("primary");
        assertTrue(primary.get("reachable").asBoolean(), primary.toString());
        long behind = Lsn.parse(primary.get("current_lsn").asText()).value()
                - Lsn.parse(standbyReplay).value();
        assertTrue(behind > 0, primary.toString());
        assertEquals(behind, primary.get("lag_bytes").asLong(), primary.toString());

        assertEquals(snapshotId, doc.get("last_snapshot").get("id").asText());
        assertTrue(doc.get("last_snapshot").get("age_seconds").asLong() >= 0);
        assertEquals(1, doc.get("snapshot_sets").asInt());
        assertEquals(
                "standby's last replayed commit",
                doc.get("recoverable_window").get("latest_from").asText());
        assertNotNull(
                Instant.parse(doc.get("recoverable_window").get("earliest").asText()));

        assertEquals("up", source(doc, "nfs").get("state").asText());
        assertTrue(
                source(doc, "live").get("reachable").asBoolean(),
                source(doc, "live").toString());
        JsonNode down = source(doc, "dead");
        assertFalse(down.get("reachable").asBoolean());
        assertEquals("down", down.get("state").asText());
        assertTrue(down.get("detail").asText().contains("connection refused"), down.toString());
        assertNotNull(Instant.parse(down.get("down_until").asText()));

        JsonNode snapshotJob = doc.get("jobs").get(0);
        assertEquals("snapshot", snapshotJob.get("name").asText());
        assertEquals(
                Schedule.parse("1 4 * * *", ZoneId.of("UTC"))
                        .nextAfter(Instant.parse(doc.get("time").asText()))
                        .orElseThrow()
                        .toString(),
                snapshotJob.get("next_run").asText());
        assertEquals("ok", snapshotJob.get("last_run").get("outcome").asText());
        assertEquals(snapshotId, snapshotJob.get("last_run").get("result").asText());
        JsonNode pruneJob = doc.get("jobs").get(1);
        assertEquals("failed", pruneJob.get("last_run").get("outcome").asText());
        assertEquals(
                "no retention section", pruneJob.get("last_run").get("error").asText());
        assertFalse(doc.get("daemon").get("running").asBoolean());
    }

    @Test
    @Order(2)
    void theTableHasOneLinePerPartAndADeadHostStaysRememberedDown() {
        ZpitrRun r = zpitr("status");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(line(lines, "standby ").contains("in recovery, replayed to "), r.out());
        assertTrue(line(lines, "standby ").contains("; replay lag "), r.out());
        assertTrue(line(lines, "primary ").contains("behind"), r.out());
        assertTrue(line(lines, "snapshots ").contains("1 set(s); newest " + snapshotId), r.out());
        assertTrue(line(lines, "recoverable window ").contains("standby's last replayed commit"), r.out());
        assertTrue(line(lines, "archive nfs ").contains("up (local " + lab.lab().archive()), r.out());
        assertTrue(
                line(lines, "archive live ").contains("up (ssh " + live.address() + ":" + live.port() + ")"), r.out());
        // The first status found it down and remembered that, as wal-fetch does: now it is not asked.
        assertTrue(
                line(lines, "archive dead ").startsWith("archive dead")
                        && line(lines, "archive dead ").contains("DOWN (not asked: wal-fetch skips it until "),
                r.out());
        assertTrue(
                line(lines, "job snapshot ").contains("next ")
                        && line(lines, "job snapshot ").contains("last run ok"),
                r.out());
        assertTrue(
                line(lines, "job prune ").contains("last run FAILED")
                        && line(lines, "job prune ").contains("retry at"),
                r.out());
        assertTrue(line(lines, "daemon ").contains("not running"), r.out());
    }

    private static String line(List<String> lines, String prefix) {
        return lines.stream()
                .filter(l -> l.startsWith(prefix))
                .findFirst()
                .orElseThrow(
                        () -> new AssertionError("no line starting '" + prefix + "' in\n" + String.join("\n", lines)));
    }

    @Test
    @Order(3)
    void withTheStandbyDownTheRestIsStillReported() throws Exception {
        lab.standby().stop();
        try {
            JsonNode doc = statusJson();
            assertFalse(doc.get("standby").get("reachable").asBoolean());
            assertFalse(doc.get("standby").get("error").asText().isEmpty());
            assertEquals(snapshotId, doc.get("last_snapshot").get("id").asText());
            assertTrue(
                    doc.get("recoverable_window").get("latest_from").asText().startsWith("newest snapshot"),
                    doc.get("recoverable_window").toString());
            assertTrue(doc.get("primary").get("reachable").asBoolean());
            assertTrue(doc.get("primary").get("lag_bytes").isNull(), "unknown without the standby's position");
            ZpitrRun table = zpitr("status");
            assertEquals(0, table.code());
            assertTrue(
                    table.out().lines().anyMatch(l -> l.startsWith("standby ") && l.contains("UNREACHABLE")),
                    table.out());
        } finally {
            lab.standby().start();
        }
    }
}
