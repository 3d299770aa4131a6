package io.zpitr.appliance.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.cli.ZpitrRun;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.postgres.PgState;
import io.zpitr.appliance.snapshot.SnapshotService;
import io.zpitr.fixtures.SshServer;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.Zfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * zpitr replicate from one real zfs-fuse pool to a second one, reached over a real sshd on its own
 * loopback address as root (the fixture's key, the host key pinned in known_hosts): full, then
 * incremental; a prune between runs that keeps the cursor; a diverged target refused and forced;
 * sshd killed in the middle of a stream, then a run that completes; the target listed by an
 * appliance configured on the received datasets.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicateIT {
    @RegisterExtension
    static final ZfsPool SOURCE = ZfsPool.ofSize(768L << 20);

    @RegisterExtension
    static final ZfsPool TARGET = ZfsPool.ofSize(768L << 20);

    @RegisterExtension
    static final SshServer HOST = SshServer.builder().build();

    static final ProcessRunner RUNNER = new ProcessRunner();
    static Path dir;
    static Path config;
    static Path targetConfig;
    static DatasetName data;
    static DatasetName tblspc;
    static SnapshotService snapshots;

    @BeforeAll
    static void pools() throws IOException {
        SOURCE.zfs("create", SOURCE.name() + "/pg");
        SOURCE.zfs("create", SOURCE.name() + "/pg/data");
        SOURCE.zfs("create", SOURCE.name() + "/pg/tblspc1");
        TARGET.zfs("create", TARGET.name() + "/backup");
        data = DatasetName.of(SOURCE.name() + "/pg/data");
        tblspc = DatasetName.of(SOURCE.name() + "/pg/tblspc1");
        dir = Files.createTempDirectory("zpitr-repl");
        config = dir.resolve("zpitr.yaml");
        Files.writeString(
                config,
                "state_dir: " + dir.resolve("state") + "\n"
                        + "zfs:\n  datasets: [" + data + ", " + tblspc + "]\n"
                        + "retention: {keep_within: 0s, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0}\n"
                        + "replication:\n  targets:\n" + sshTarget("dr1", TARGET.name() + "/backup"));
        targetConfig = dir.resolve("replica.yaml");
        Files.writeString(
                targetConfig,
                "state_dir: " + dir.resolve("replica-state") + "\n"
                        + "zfs:\n  datasets: [" + TARGET.name() + "/backup/pg/data, " + TARGET.name()
                        + "/backup/pg/tblspc1]\n"
                        + "retention: {keep_within: 0s, daily: 7}\n");
        snapshots = new SnapshotService(
                Zfs.detect(RUNNER, "zfs"), List.of(data, tblspc), "zpitr", dir.resolve("state"), Clock.systemUTC());
    }

    static String sshTarget(String name, String root) {
        return "    - name: " + name + "\n      type: ssh\n      host: " + HOST.address() + "\n      port: "
                + HOST.port()
                + "\n      user: " + HOST.user() + "\n      identity_file: " + HOST.identityFile()
                + "\n      known_hosts: " + HOST.knownHostsFile() + "\n      dataset_root: " + root
                + "\n      connect_timeout: 5s\n      io_timeout: 8s\n";
    }

    static int sets;

    /** A snapshot set as zpitr snapshot records it; the PostgreSQL position is made up (no server needed here). */
    static String takeSet() throws IOException {
        sets++;
        long lsn = 0x3000000L * sets;
        PgState state = new PgState(
                "standby",
                1,
                new Lsn(lsn),
                new Lsn(lsn + 0x28),
                new Lsn(lsn + 0x100),
                OffsetDateTime.parse("2026-11-20T04:0" + sets + ":00Z"),
                "7312345678901234567",
                150010,
                700 + sets);
        return snapshots.take("s" + sets, null, () -> state, "test@here").id();
    }

    static ZpitrRun zpitr(String... args) {
        return ZpitrRun.withConfig(config, args);
    }

    static String get(ZfsPool pool, String property, String name) {
        return pool.zfs("get", "-H", "-p", "-o", "value", property, name).strip();
    }

    static Path mounted(ZfsPool pool, String relative) {
        return pool.mountpoint().resolve(relative);
    }

    static String s1;
    static String s2;
    static String s3;

    @Test
    @Order(1)
    void badTargetsAreRefusedWithExit2AndNothingChanges() throws IOException {
        ZpitrRun unknown = zpitr("replicate", "--target", "nowhere");
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(
                unknown.err().contains("unknown replication target 'nowhere'")
                        && unknown.err().contains("dr1"),
                unknown.err());

        Path badName = dir.resolve("bad-name.yaml");
        Files.writeString(badName, Files.readString(config).replace("name: dr1", "name: \"dr1;touch /tmp/x\""));
        ZpitrRun r = ZpitrRun.withConfig(badName, "replicate");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("replication.targets[0].name"), r.err());

        Path badRoot = dir.resolve("bad-root.yaml");
        Files.writeString(
                badRoot,
                Files.readString(config)
                        .replace(
                                "dataset_root: " + TARGET.name() + "/backup",
                                "dataset_root: \"" + TARGET.name() + "/$(reboot)\""));
        r = ZpitrRun.withConfig(badRoot, "replicate");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("dataset_root"), r.err());

        takeSetOnce();
        Path missingRoot = dir.resolve("missing-root.yaml");
        Files.writeString(
                missingRoot,
                Files.readString(config)
                        .replace(
                                "dataset_root: " + TARGET.name() + "/backup",
                                "dataset_root: " + TARGET.name() + "/nope"));
        r = ZpitrRun.withConfig(missingRoot, "replicate");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(TARGET.name() + "/nope does not exist"), r.err());
        assertEquals(
                TARGET.name() + "\n" + TARGET.name() + "/backup",
                TARGET.zfs("list", "-H", "-o", "name", "-r", TARGET.name()).strip());
        assertEquals("0", get(SOURCE, "userrefs", data.snapshot(s1).full()));
    }

    static void takeSetOnce() throws IOException {
        if (s1 == null) {
            Files.writeString(mounted(SOURCE, "pg/data/first.txt"), "one");
            Files.writeString(mounted(SOURCE, "pg/tblspc1/t.txt"), "tablespace one");
            s1 = takeSet();
        }
    }

    @Test
    @Order(2)
    void theFirstRunSendsFullThenIncrementalWithTheProperties() throws IOException {
        takeSetOnce();
        Files.writeString(mounted(SOURCE, "pg/data/second.txt"), "two");
        s2 = takeSet();

        ZpitrRun dry = zpitr("replicate", "--dry-run");
        assertEquals(0, dry.code(), dry.out() + dry.err());
        assertTrue(dry.out().contains("dr1: would send " + s1 + " (full)"), dry.out());
        assertTrue(dry.out().contains("dr1: would send " + s2 + " (incremental from " + s1 + ")"), dry.out());
        assertEquals(
                TARGET.name() + "\n" + TARGET.name() + "/backup",
                TARGET.zfs("list", "-H", "-o", "name", "-r", TARGET.name()).strip());

        ZpitrRun run = zpitr("replicate").assertSucceeded();
        assertTrue(run.out().contains("dr1: 2 set(s) sent"), run.out());
        String landing = TARGET.name() + "/backup/pg/data";
        for (String id : List.of(s1, s2)) {
            for (String prop : List.of(
                    "zpitr:format",
                    "zpitr:set",
                    "zpitr:redo_lsn",
                    "zpitr:replay_lsn",
                    "zpitr:replay_time",
                    "zpitr:timeline",
                    "zpitr:system_id",
                    "zpitr:next_xid",
                    "zpitr:pg_version",
                    "zpitr:datasets")) {
                assertEquals(
                        get(SOURCE, prop, data.snapshot(id).full()),
                        get(TARGET, prop, landing + "@" + id),
                        prop + " of " + id);
                assertEquals(
                        get(SOURCE, prop, tblspc.snapshot(id).full()),
                        get(TARGET, prop, TARGET.name() + "/backup/pg/tblspc1@" + id),
                        prop + " of " + id);
            }
        }
        assertEquals("two", Files.readString(mounted(TARGET, "backup/pg/data/second.txt")));
        assertEquals("tablespace one", Files.readString(mounted(TARGET, "backup/pg/tblspc1/t.txt")));
        // The cursor: held on the newest set sent, on every dataset, and recorded as a tag; not on the older one.
        assertEquals("1", get(SOURCE, "userrefs", data.snapshot(s2).full()));
        assertEquals("1", get(SOURCE, "userrefs", tblspc.snapshot(s2).full()));
        assertEquals(
                "zpitr-repl-dr1", get(SOURCE, "zpitr:holds", data.snapshot(s2).full()));
        assertEquals("0", get(SOURCE, "userrefs", data.snapshot(s1).full()));

        ZpitrRun again = zpitr("replicate").assertSucceeded();
        assertTrue(again.out().contains("dr1: up to date; newest replicated set " + s2), again.out());
        String audit = Files.readString(dir.resolve("state/audit.jsonl"));
        assertEquals(
                2,
                audit.lines()
                        .filter(l -> l.contains("\"event\":\"replicate\"") && l.contains("\"outcome\":\"ok\""))
                        .count(),
                audit);
    }

    @Test
    @Order(3)
    void aReplicaApplianceListsTheReceivedSetsWithTheirPositions() {
        ZpitrRun list =
                ZpitrRun.withConfig(targetConfig, "list", "--format", "csv").assertSucceeded();
        assertTrue(list.out().contains(s1 + ","), list.out());
        assertTrue(list.out().contains(s2 + ","), list.out());
        String row = list.out()
                .lines()
                .filter(l -> l.startsWith(s2 + ","))
                .findFirst()
                .orElseThrow();
        assertTrue(row.contains(",0/6000000,0/6000100,2026-11-20T04:02:00Z,"), row);
    }

    @Test
    @Order(4)
    void pruneBetweenRunsKeepsTheCursorAndTheNextRunIsIncremental() throws IOException {
        Files.writeString(mounted(SOURCE, "pg/data/third.txt"), "three");
        s3 = takeSet();
        ZpitrRun prune = zpitr("prune").assertSucceeded();
        assertTrue(prune.out().contains("destroyed " + s1), prune.out());
        assertTrue(prune.out().contains("keep     " + s2 + "  (replication cursor dr1)"), prune.out());
        ZpitrRun list = zpitr("list").assertSucceeded();
        assertTrue(
                list.out()
                        .lines()
                        .anyMatch(l -> l.startsWith(s2)
                                && l.contains("zpitr-repl-dr1")
                                && l.contains("replication cursor dr1")),
                list.out());

        ZpitrRun run = zpitr("replicate").assertSucceeded();
        assertTrue(run.out().contains("sending " + data.snapshot(s3) + " (incremental from " + s2 + ")"), run.out());
        assertEquals("three", Files.readString(mounted(TARGET, "backup/pg/data/third.txt")));
        // The target keeps what the source pruned.
        assertEquals("1", get(TARGET, "zpitr:format", TARGET.name() + "/backup/pg/data@" + s1));
        assertEquals("1", get(SOURCE, "userrefs", data.snapshot(s3).full()));
        assertEquals("0", get(SOURCE, "userrefs", data.snapshot(s2).full()));
    }

    @Test
    @Order(5)
    void aDivergedTargetIsRefusedUnlessForced() throws IOException {
        String landing = TARGET.name() + "/backup/pg/tblspc1";
        TARGET.zfs("snapshot", landing + "@made-there");
        Files.writeString(mounted(SOURCE, "pg/data/fourth.txt"), "four");
        String s4 = takeSet();
        ZpitrRun refused = zpitr("replicate");
        assertEquals(1, refused.code(), refused.out() + refused.err());
        assertTrue(
                refused.err().contains("has diverged")
                        && refused.err().contains("made-there")
                        && refused.err().contains("--force-rollback"),
                refused.err());
        assertFalse(TARGET.zfs("list", "-H", "-r", "-t", "snapshot", "-o", "name", TARGET.name())
                .contains(s4));

        ZpitrRun forced = zpitr("replicate", "--force-rollback").assertSucceeded();
        assertTrue(forced.out().contains("rolling " + landing + " back to " + s3), forced.out());
        String snaps = TARGET.zfs("list", "-H", "-r", "-t", "snapshot", "-o", "name", TARGET.name());
        assertFalse(snaps.contains("made-there"), snaps);
        assertTrue(snaps.contains(landing + "@" + s4), snaps);
    }

    @Test
    @Order(6)
    void aTargetKilledMidStreamLeavesOnlyWholeSetsAndTheNextRunCompletes() throws Exception {
        byte[] big = new byte[160 << 20];
        new Random(7).nextBytes(big);
        Files.write(mounted(SOURCE, "pg/data/big.bin"), big);
        String s5 = takeSet();

        CompletableFuture<ZpitrRun> running = CompletableFuture.supplyAsync(() -> zpitr("replicate"));
        waitFor(
                () -> !ProcessTrees.mentioning("'receive'").isEmpty() || running.isDone(),
                Duration.ofSeconds(60),
                "the receive to start on the target");
        assertFalse(running.isDone(), "the stream ended before the host could be killed");
        HOST.stop();
        ZpitrRun killed = running.get(120, TimeUnit.SECONDS);
        assertEquals(1, killed.code(), killed.out() + killed.err());
        assertTrue(killed.err().contains("failed in set " + s5), killed.err());
        // No zfs send is left blocked on the dead pipe.
        waitFor(
                () -> ProcessTrees.mentioning(data.snapshot(s5).full()).isEmpty(),
                Duration.ofSeconds(30),
                "the zfs send of " + s5 + " to end");
        assertEquals("0", get(SOURCE, "userrefs", data.snapshot(s5).full()));

        HOST.start();
        ZpitrRun resumed = zpitr("replicate").assertSucceeded();
        assertTrue(resumed.out().contains(s5 + " complete"), resumed.out());
        assertArrayEquals(big, Files.readAllBytes(mounted(TARGET, "backup/pg/data/big.bin")));
        assertEquals("1", get(TARGET, "zpitr:format", TARGET.name() + "/backup/pg/tblspc1@" + s5));
        assertEquals("1", get(SOURCE, "userrefs", data.snapshot(s5).full()));
    }

    @Test
    @Order(7)
    void aLocalTargetGetsEverySetAndStatusReportsBothReplicas() throws Exception {
        TARGET.zfs("create", TARGET.name() + "/local");
        Path both = dir.resolve("both.yaml");
        Files.writeString(
                both,
                Files.readString(config) + "    - {name: here, type: local, dataset_root: " + TARGET.name()
                        + "/local}\n");
        ZpitrRun run =
                ZpitrRun.withConfig(both, "replicate", "--target", "here").assertSucceeded();
        assertTrue(run.out().contains("here: 4 set(s) sent"), run.out());
        assertEquals("three", Files.readString(mounted(TARGET, "local/pg/data/third.txt")));
        String newest = SOURCE.zfs("list", "-H", "-r", "-t", "snapshot", "-o", "name", data.full())
                .strip()
                .lines()
                .reduce((a, b) -> b)
                .orElseThrow();
        String id = newest.substring(newest.indexOf('@') + 1);
        assertEquals(
                get(SOURCE, "zpitr:redo_lsn", newest),
                get(TARGET, "zpitr:redo_lsn", TARGET.name() + "/local/pg/data@" + id));
        // Both cursors on the newest set: two holds, both tags recorded.
        assertEquals("2", get(SOURCE, "userrefs", newest));
        assertEquals("zpitr-repl-dr1,zpitr-repl-here", get(SOURCE, "zpitr:holds", newest));

        ZpitrRun status =
                ZpitrRun.withConfig(both, "status", "--format", "json").assertSucceeded();
        com.fasterxml.jackson.databind.JsonNode replicas = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(status.out())
                .get("replication");
        assertEquals(2, replicas.size(), status.out());
        for (com.fasterxml.jackson.databind.JsonNode r : replicas) {
            assertEquals(id, r.get("newest_set").asText(), r.toString());
            assertEquals("ok", r.get("last_outcome").asText(), r.toString());
        }
        assertTrue(replicas.get(1).get("last_bytes_sent").asLong() > 160L << 20, replicas.toString());
    }

    static void waitFor(java.util.function.BooleanSupplier condition, Duration limit, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
