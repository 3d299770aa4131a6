package io.zpitr.appliance.replication;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.cli.ZpitrRun;
import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.daemon.Daemon;
import io.zpitr.appliance.daemon.RetryPolicy;
import io.zpitr.appliance.daemon.StandbyOnZfs;
import io.zpitr.appliance.daemon.SystemdNotifier;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.postgres.PgState;
import io.zpitr.appliance.snapshot.SnapshotService;
import io.zpitr.appliance.wal.WalLab;
import io.zpitr.fixtures.SshServer;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.Zfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
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
 *
 * <p>Then a real PostgreSQL 15 standby on other datasets of the same source pool ({@code db/...}),
 * archiving to an archive host (a second sshd): its set replicated, and restored to a time on the
 * target by an appliance configured there as docs/operations.md says, replaying from the archive
 * host; and the daemon's {@code schedule.replicate} sending its next set, then failing while the
 * target is down, as status, the metrics and the audit log report.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicateIT {
    @RegisterExtension
    static final ZfsPool SOURCE = ZfsPool.ofSize(768L << 20);

    @RegisterExtension
    static final ZfsPool TARGET = ZfsPool.ofSize(768L << 20);

    @RegisterExtension
    static final SshServer HOST = SshServer.builder().build();

    /** The archive host of the real standby's WAL, reached over SSH by the replica's restore. */
    @RegisterExtension
    static final SshServer ARCHIVE = SshServer.builder().build();

    static final ProcessRunner RUNNER = new ProcessRunner();
    static Path dir;
    static Path config;
    static Path targetConfig;
    static DatasetName data;
    static DatasetName tblspc;
    static SnapshotService snapshots;
    /** The real standby of the last tests, on {@code <source>/db/data} and {@code <source>/db/tblspc1}. */
    static StandbyOnZfs standby;

    @AfterAll
    static void stopStandby() throws IOException {
        try {
            if (standby != null) {
                standby.close();
            }
        } finally {
            if (dir != null) {
                // Configs, states and the replica's key copy (some files owned by postgres).
                RUNNER.run(Command.of("rm", "-rf", dir.toString())).requireSuccess();
            }
        }
    }

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

    // ------------------------------------------------------------------ a real standby, restored on the replica

    static Path dbConfig;
    static String dbSet;

    /**
     * The real standby and its zpitr config: datasets {@code db/data} (PGDATA) and {@code db/tblspc1},
     * the target dr1 at the same dataset_root as the made-up sets (they land at {@code backup/db/...}).
     */
    static void realStandby() throws Exception {
        if (standby != null) {
            return;
        }
        Path arch = ARCHIVE.dataDir().resolve("arch");
        standby = StandbyOnZfs.start(SOURCE, List.of(arch), "db");
        dbConfig = standby.config(
                Files.createDirectories(dir.resolve("db")),
                "zpitr",
                standby.datasets(),
                "archive:\n  prefetch: 0\n  sources:\n    - {name: arch1, type: ssh, host: " + ARCHIVE.address()
                        + ", port: " + ARCHIVE.port() + ", user: " + ARCHIVE.user() + ", path: " + arch
                        + ", identity_file: " + ARCHIVE.identityFile() + ", known_hosts: "
                        + ARCHIVE.knownHostsFile() + "}\n"
                        + "replication:\n  targets:\n" + sshTarget("dr1", TARGET.name() + "/backup"));
    }

    @Test
    @Order(8)
    void aSetOfARealStandbyRestoresToATimeOnTheReplicaWithExactlyTheRowsBeforeIt() throws Exception {
        realStandby();
        WalLab lab = standby.lab();
        dbSet = ZpitrRun.withConfig(dbConfig, "snapshot", "--label", "offsite")
                .assertSucceeded()
                .lastLine();
        // After the set: rows 1501-1505, the target time, rows 1506-1510; both commits archived.
        assertEquals(1505, lab.insertRows(5));
        String target = lab.primary().psql("select clock_timestamp()");
        assertEquals(1510, lab.insertRows(5));
        lab.switchAndWait();

        ZpitrRun run = ZpitrRun.withConfig(dbConfig, "replicate").assertSucceeded();
        assertTrue(run.out().contains("dr1: 1 set(s) sent"), run.out());
        String landing = TARGET.name() + "/backup/db/data";
        assertEquals("1", get(TARGET, "zpitr:format", landing + "@" + dbSet));

        // The replica: an appliance on the target host, configured as docs/operations.md shows.
        Path home = Files.createDirectories(dir.resolve("replica-db"));
        Path keys = Files.createDirectories(home.resolve("keys"));
        // The restored PostgreSQL's restore_command runs wal-fetch as postgres: its own copy of the key.
        Path identity = ARCHIVE.copyIdentityFor("postgres", keys.resolve("arch1"));
        Path knownHosts = keys.resolve("known_hosts");
        Files.copy(ARCHIVE.knownHostsFile(), knownHosts);
        Path mountRoot = TARGET.mountpoint().resolve("restore");
        Path replica = home.resolve("zpitr.yaml");
        Files.writeString(
                replica,
                "timezone: UTC\nstate_dir: " + home.resolve("state") + "\n"
                        + "zfs:\n  datasets: [" + landing + ", " + TARGET.name() + "/backup/db/tblspc1]\n"
                        + "  snapshot_prefix: zpitr\n"
                        + "postgres:\n  bin_dir: /usr/lib/postgresql/15/bin\n"
                        + "  data_dir: " + TARGET.mountpoint().resolve("backup/db/data/pgdata") + "\n"
                        + "  os_user: postgres\n"
                        + "archive:\n  sources:\n    - {name: arch1, type: ssh, host: " + ARCHIVE.address()
                        + ", port: " + ARCHIVE.port() + ", user: " + ARCHIVE.user() + ", path: "
                        + ARCHIVE.dataDir().resolve("arch") + ", identity_file: " + identity + ", known_hosts: "
                        + knownHosts + "}\n"
                        + "restore:\n  dataset_root: " + TARGET.name() + "/restore\n  mount_root: " + mountRoot
                        + "\n  port: 26632\n"
                        + "retention: {keep_within: 24h, daily: 30, weekly: 12, monthly: 24}\n");
        Files.createDirectories(home.resolve("state"));
        RUNNER.run(Command.of("chown", "-R", "postgres:postgres", home.toString()))
                .requireSuccess();

        ZpitrRun list = ZpitrRun.withConfig(replica, "list", "--format", "csv").assertSucceeded();
        assertTrue(list.out().contains(dbSet + ","), list.out());
        boolean dropped = false;
        try {
            ZpitrRun restored = ZpitrRun.withConfig(replica, "restore", "--to-time", target, "--name", "offsite");
            assertEquals(0, restored.code(), restored.out() + restored.err());
            assertTrue(restored.out().contains("cloned " + dbSet), restored.out());
            // Rows 1-1505 and none after the target: replayed from the archive host over SSH.
            assertEquals("1505 1505", sqlOnRestore(replica, "offsite", "select count(*) || ' ' || max(id) from t"));
            assertEquals(
                    TARGET.name() + "/backup/db/data@" + dbSet,
                    get(TARGET, "origin", TARGET.name() + "/restore/offsite/data"),
                    "a clone of the received snapshot");
            ZpitrRun.withConfig(replica, "restore-drop", "offsite").assertSucceeded();
            dropped = true;
        } finally {
            if (!dropped) {
                ZpitrRun.withConfig(replica, "restore-drop", "offsite");
            }
            WalLab.awaitNoZpitrProcess(replica, Duration.ofSeconds(15));
        }
        assertFalse(
                TARGET.zfs("list", "-H", "-o", "name", "-r", TARGET.name()).contains("/restore/offsite"),
                "the restore's clones are gone");
    }

    /** The first column of the first row, over PgJDBC to the replica's restore {@code name}. */
    static String sqlOnRestore(Path replicaConfig, String name, String query) throws Exception {
        JsonNode all = new ObjectMapper()
                .readTree(ZpitrRun.withConfig(replicaConfig, "restores", "--format", "json")
                        .assertSucceeded()
                        .out());
        for (JsonNode r : all) {
            if (r.get("name").asText().equals(name)) {
                String url = "jdbc:postgresql://127.0.0.1:" + r.get("port").asText() + "/postgres";
                try (Connection c = DriverManager.getConnection(url, "postgres", "");
                        Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery(query)) {
                    return rs.next() ? rs.getString(1) : "";
                }
            }
        }
        throw new AssertionError("no restore " + name + " in " + all);
    }

    @Test
    @Order(9)
    void theDaemonReplicatesOnScheduleAndATargetThatIsDownFailsTheJob() throws Exception {
        realStandby();
        String next = ZpitrRun.withConfig(dbConfig, "snapshot", "--label", "daemon")
                .assertSucceeded()
                .lastLine();
        Path daemonConfig = dbConfig.resolveSibling("daemon.yaml");
        // Quartz's 6-field form: every 2 s, so the test waits seconds, not a minute.
        Files.writeString(daemonConfig, Files.readString(dbConfig) + "schedule:\n  replicate: \"*/2 * * * * ?\"\n");
        Path state = dbConfig.resolveSibling("state");
        Appliance appliance = new Appliance(ConfigLoader.load(daemonConfig), new ProcessRunner(), Clock.systemUTC());
        Daemon daemon = new Daemon(
                appliance,
                new Daemon.Options(new RetryPolicy(List.of()), SystemdNotifier.forThisProcess(null), Optional.empty()));
        daemon.start();
        try {
            long created =
                    Long.parseLong(get(SOURCE, "creation", standby.datasets().get(0) + "@" + next));
            // The metrics file is written after each job: it names the new set once the job is over.
            waitFor(
                    () -> metricsOf(state)
                                    .contains(
                                            "zpitr_replication_newest_set_timestamp_seconds{target=\"dr1\"} " + created)
                            && metricsOf(state).contains("zpitr_replication_last_run_success{target=\"dr1\"} 1"),
                    Duration.ofSeconds(90),
                    "the daemon to replicate " + next + " and write the metrics");
            assertEquals("1", get(TARGET, "zpitr:format", TARGET.name() + "/backup/db/tblspc1@" + next));
            JsonNode ok = replica(daemonConfig);
            assertEquals(next, ok.path("newest_set").asText(), ok.toString());
            assertEquals("ok", ok.path("last_outcome").asText(), ok.toString());
            ZpitrRun status = ZpitrRun.withConfig(daemonConfig, "status").assertSucceeded();
            assertTrue(status.out().contains("newest set " + next), status.out());

            HOST.stop();
            waitFor(
                    () -> metricsOf(state).contains("zpitr_replication_last_run_success{target=\"dr1\"} 0")
                            && metricsOf(state).matches("(?s).*zpitr_job_failures_total\\{job=\"replicate\"} [1-9].*"),
                    Duration.ofSeconds(60),
                    "a replicate job to fail while the target is down, and the metrics to say so");
            assertTrue(
                    metricsOf(state)
                            .contains("zpitr_replication_newest_set_timestamp_seconds{target=\"dr1\"} " + created),
                    "the target still holds " + next + ":\n" + metricsOf(state));
            JsonNode failed = replica(daemonConfig);
            assertEquals("failed", failed.path("last_outcome").asText(), failed.toString());
            assertEquals(next, failed.path("newest_set").asText(), failed.toString());
            assertTrue(failed.path("last_error").asText().contains(HOST.address()), failed.toString());
            status = ZpitrRun.withConfig(daemonConfig, "status").assertSucceeded();
            assertTrue(status.out().contains("LAST RUN FAILED"), status.out());
            String audit = Files.readString(state.resolve("audit.jsonl"));
            assertTrue(
                    audit.lines()
                            .anyMatch(l -> l.contains("\"event\":\"replicate\"")
                                    && l.contains("\"outcome\":\"ok\"")
                                    && l.contains(next)),
                    audit);
            assertTrue(
                    audit.lines()
                            .anyMatch(
                                    l -> l.contains("\"event\":\"replicate\"") && l.contains("\"outcome\":\"failed\"")),
                    audit);
        } finally {
            daemon.stop("test over");
            HOST.start();
        }
    }

    /** dr1's entry in {@code zpitr status --format json}. */
    static JsonNode replica(Path config) {
        try {
            JsonNode all = new ObjectMapper()
                    .readTree(ZpitrRun.withConfig(config, "status", "--format", "json")
                            .assertSucceeded()
                            .out());
            for (JsonNode r : all.get("replication")) {
                if (r.get("target").asText().equals("dr1")) {
                    return r;
                }
            }
            throw new AssertionError("no dr1 in " + all);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String metricsOf(Path state) {
        try {
            return Files.readString(state.resolve("zpitr.prom"));
        } catch (IOException e) {
            return "";
        }
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
