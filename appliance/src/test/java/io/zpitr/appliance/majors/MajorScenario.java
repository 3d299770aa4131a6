// The life cycle zpitr promises, run on a real cluster of one PostgreSQL major: wal-fetch, snapshot, every restore
// target.
package io.zpitr.appliance.majors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.cli.ZpitrRun;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.wal.PrefetcherProcess;
import io.zpitr.appliance.wal.WalLab;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import io.zpitr.archive.WalVerifier;
import io.zpitr.fixtures.BaseBackup;
import io.zpitr.fixtures.PostgresBinaries;
import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * One scenario for every supported major, run by a subclass per major ({@code Major11IT} ...):
 * a primary of that major (real binaries: Debian's 15, else {@link PostgresBinaries}) archives
 * into a folder; a standby of that major, copied with the low-level backup API ({@link BaseBackup})
 * onto a zfs-fuse dataset and fed only by {@code bin/zpitr wal-fetch}, is snapshotted by
 * {@code zpitr snapshot}; after the snapshot the primary commits row 101, a restore point, row 102
 * in a known transaction and row 103.
 *
 * <p>Then, each test on its own: wal-fetch verifies that major's real segments and backup history
 * file and refuses corrupted copies; the snapshot's metadata is what the standby said; restores to
 * a time, an LSN, an xid, a restore point and the end of the archive hold exactly the rows
 * committed before their target, with recovery settings written the way that major reads them;
 * the promoted instance is writable, starts its own timeline (whose history file and first segment
 * wal-fetch verifies) and archives nothing; and a restore with another major's binaries is refused
 * before anything is cloned.
 *
 * <p>Small on purpose (a few hundred rows, a handful of segments): the matrix runs in CI. The
 * standby and the restores prefetch WAL as in production ({@code archive.prefetch: 4}; measured
 * here, it halves a restore's time against one JVM per segment); the configs that only test
 * wal-fetch itself do not prefetch, so each call fetches exactly the file it names.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class MajorScenario {
    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final ProcessRunner RUNNER = new ProcessRunner();

    private final int major;
    private final List<String> restoreNames = new ArrayList<>();
    Path binDir;
    ZfsPool pool;
    WalLab lab;
    PostgresCluster standby;
    Path config;
    Path mountRoot;
    String snapshotId;
    /** What the standby said about itself just before and just after {@code zpitr snapshot}. */
    StandbyFacts before;

    StandbyFacts after;
    String systemIdentifier;
    String afterRow101Time;
    String afterRow101Lsn;
    long xidOfRow102;

    MajorScenario(int major) {
        this.major = major;
    }

    /** The standby's own view of its position; the primary is idle meanwhile, so it holds still. */
    record StandbyFacts(long timeline, Lsn redo, Lsn replay, Instant lastCommit, int versionNum) {}

    @BeforeAll
    void standbyOfThisMajorOnZfsFedByWalFetch() throws Exception {
        binDir = PostgresBinaries.forMajor(major);
        lab = new WalLab(binDir);
        PostgresCluster primary = lab.primary();
        assertEquals(
                Integer.toString(major),
                primary.psql("select current_setting('server_version_num')::int / 10000"),
                "the primary runs PostgreSQL " + major + " from " + binDir);
        lab.insertRows(50);
        systemIdentifier = primary.psql("select system_identifier from pg_control_system()");

        pool = ZfsPool.ofSize(512L << 20).start();
        pool.zfs("create", pool.name() + "/pg");
        pool.zfs("create", pool.name() + "/pg/data");
        Path pgdata = pool.mountpoint().resolve("pg/data/pgdata");
        BaseBackup.copy(primary, pgdata);
        // Committed after the copy, so the standby has a last replayed commit to report.
        lab.insertRows(50);
        assertEquals(
                Integer.toString(major),
                Files.readString(pgdata.resolve("PG_VERSION")).strip());

        Path home = Files.createDirectories(lab.root().resolve("zpitr"));
        mountRoot = pool.mountpoint().resolve("restore");
        config = home.resolve("zpitr.yaml");
        writeConfig(config, binDir, List.of(lab.archive()));
        String restoreCommand = LAUNCHER + " --config " + config + " wal-fetch %f %p";
        PostgresCluster.Builder builder = PostgresCluster.builder()
                .binDir(binDir)
                .dataDir(pgdata)
                .initdb(false)
                .setting("hot_standby", "on");
        if (major < 12) {
            // recovery.conf: in postgresql.conf these are unknown parameters, and 11 refuses to start.
            Files.writeString(
                    pgdata.resolve("recovery.conf"),
                    "standby_mode = 'on'\nrestore_command = '" + restoreCommand + "'\n");
        } else {
            Files.writeString(pgdata.resolve("standby.signal"), "");
            builder.setting("restore_command", restoreCommand);
        }
        RUNNER.run(Command.of("chown", "-R", "postgres:", home.toString(), pgdata.toString()))
                .requireSuccess();
        standby = builder.build().start();
        lab.switchAndWaitFor(standby);
        assertEquals("t", standby.psql("select pg_is_in_recovery()"));
        // The config learns the live standby now that it runs: snapshot metadata comes over SQL.
        Files.writeString(
                config,
                Files.readString(config)
                        .replace(
                                "  os_user: postgres\n",
                                "  os_user: postgres\n  standby: {host: " + standby.socketDir() + ", port: "
                                        + standby.port() + ", user: postgres}\n"));

        before = standbyFacts();
        snapshotId =
                zpitr("snapshot", "--label", "pg" + major).assertSucceeded().lastLine();
        after = standbyFacts();

        // After the snapshot: row 101, the target time, a restore point and the target LSN, row 102 in
        // a known transaction, row 103. Each statement's commit is after the one before it: no
        // sleeping is needed to keep the targets apart.
        primary.psql("insert into t (id, note) values (101, 'after the snapshot')");
        afterRow101Time = primary.psql("select clock_timestamp()");
        primary.psql("select pg_create_restore_point('before_102')");
        afterRow101Lsn = primary.psql("select pg_current_wal_lsn()");
        xidOfRow102 = Long.parseLong(
                primary.psql("begin; insert into t (id, note) values (102, 'x'); select txid_current(); commit;")
                        .lines()
                        .filter(l -> l.matches("\\d+"))
                        .findFirst()
                        .orElseThrow());
        primary.psql("insert into t (id, note) values (103, 'last')");
        lab.switchAndWaitFor(standby);
    }

    @AfterAll
    void stopEverything() throws IOException {
        AssertionError failure = null;
        List<CleanupStep> steps = new ArrayList<>();
        if (config != null) {
            // Idempotent: most were dropped by their test already.
            restoreNames.forEach(
                    name -> steps.add(() -> zpitr("restore-drop", name).assertSucceeded()));
        }
        steps.addAll(List.<CleanupStep>of(
                () -> {
                    if (standby != null) {
                        standby.close();
                    }
                },
                () -> {
                    // The standby's wal-fetch left a prefetcher on its spool (it would idle out in a minute).
                    if (config != null) {
                        Path spool = config.resolveSibling("state").resolve("spool");
                        PrefetcherProcess.stop(spool, Duration.ofSeconds(10));
                        assertTrue(PrefetcherProcess.running(spool).isEmpty(), "the standby's prefetcher has ended");
                    }
                },
                () -> {
                    if (lab != null) {
                        lab.close();
                    }
                },
                () -> {
                    if (pool != null) {
                        pool.close();
                    }
                }));
        for (CleanupStep step : steps) {
            try {
                step.run();
            } catch (IOException | RuntimeException | AssertionError e) {
                // Every step runs whatever the others did: a failed drop must not leave the pool behind.
                if (failure == null) {
                    failure = new AssertionError("cleanup after PostgreSQL " + major + " failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private interface CleanupStep {
        void run() throws IOException;
    }

    // ------------------------------------------------------------------ wal-fetch

    @Test
    void walFetchVerifiesRealSegmentsAndRefusesCorruptedCopies() throws Exception {
        Path work = Files.createDirectories(lab.root().resolve("fetch"));
        Path good = writeConfig(work.resolve("good.yaml"), binDir, List.of(lab.archive()));
        List<String> names;
        try (Stream<Path> files = Files.list(lab.archive())) {
            names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("[0-9A-F]{24}(\\.[0-9A-F]{8}\\.backup)?"))
                    .sorted()
                    .toList();
        }
        assertTrue(names.stream().filter(n -> n.length() == 24).count() >= 3, "a few segments archived: " + names);
        assertTrue(
                names.stream().anyMatch(n -> n.endsWith(".backup")),
                "the base backup's history file is archived: " + names);
        WalVerifier verifier = new WalVerifier();
        for (String name : names) {
            Path dest = work.resolve("out-" + name);
            ZpitrRun r = ZpitrRun.withConfig(good, "wal-fetch", name, dest.toString());
            assertEquals(0, r.code(), name + ": " + r.err());
            assertEquals(-1, Files.mismatch(dest, lab.archive().resolve(name)), name + " arrived byte for byte");
            WalVerifier.Result check = verifier.verify(dest, WalFileName.of(name));
            assertTrue(check.ok(), name + ": " + check.reason());
            if (name.length() == 24) {
                // The page magic of this major's real WAL is in WalVerifier's table, under this major.
                assertEquals(
                        major, check.postgresMajor().orElseThrow(), name + " read as PostgreSQL " + major + " WAL");
                assertEquals(
                        Long.parseUnsignedLong(systemIdentifier),
                        check.systemIdentifier().orElseThrow());
                assertEquals(WalSegments.DEFAULT_SIZE, check.segmentSize().orElseThrow());
            }
        }

        // One real segment, corrupted three ways on a "bad" source.
        List<String> segments = names.stream().filter(n -> n.length() == 24).toList();
        String segment = segments.get(0);
        String next = segments.get(1);
        assertEquals(
                Long.parseLong(segment.substring(16), 16) + 1,
                Long.parseLong(next.substring(16), 16),
                segments.toString());
        Path bad = Files.createDirectories(work.resolve("bad"));
        byte[] bytes = Files.readAllBytes(lab.archive().resolve(segment));
        byte[] noMagic = bytes.clone();
        noMagic[0] = 0;
        noMagic[1] = 0;
        Files.write(bad.resolve(segment), noMagic);
        assertRefused(work, bad, segment, "page magic 0x0000 is not the WAL page magic");
        Files.write(bad.resolve(segment), Arrays.copyOf(bytes, bytes.length / 2));
        assertRefused(work, bad, segment, "size " + bytes.length / 2);
        // The segment under the next one's name: its header says where it really starts.
        Files.write(bad.resolve(next), bytes);
        assertRefused(work, bad, next, "but " + next + " starts at");

        // A bad copy on the first source is skipped for the good one on the next.
        Files.write(bad.resolve(segment), noMagic);
        Path badThenGood = writeConfig(work.resolve("bad-then-good.yaml"), binDir, List.of(bad, lab.archive()));
        Path dest = work.resolve("after-bad");
        ZpitrRun r = ZpitrRun.withConfig(badThenGood, "wal-fetch", segment, dest.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("page magic"), "the bad copy is named: " + r.err());
        assertEquals(-1, Files.mismatch(dest, lab.archive().resolve(segment)));
    }

    /** wal-fetch from {@code source} alone: exit 5, the reason on stderr, nothing at the destination. */
    private void assertRefused(Path work, Path source, String name, String reason) throws IOException {
        Path only = writeConfig(work.resolve("bad.yaml"), binDir, List.of(source));
        Path dest = work.resolve("refused-" + name);
        ZpitrRun r = ZpitrRun.withConfig(only, "wal-fetch", name, dest.toString());
        assertEquals(5, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(reason), "expected '" + reason + "' in: " + r.err());
        assertFalse(Files.exists(dest), "nothing lands when every copy is bad");
    }

    // ------------------------------------------------------------------ snapshot

    @Test
    void theSnapshotRecordsWhatTheStandbySaid() throws Exception {
        assertEquals(before, after, "the idle standby held still around the snapshot");
        JsonNode set = null;
        for (JsonNode s : new ObjectMapper()
                .readTree(zpitr("list", "--format", "json").assertSucceeded().out())
                .get("snapshot_sets")) {
            if (s.get("id").asText().equals(snapshotId)) {
                set = s;
            }
        }
        assertTrue(set != null, "zpitr list shows " + snapshotId);
        assertEquals("standby", set.get("metadata_source").asText());
        assertEquals(before.timeline(), set.get("timeline").asLong());
        assertEquals(before.redo(), Lsn.parse(set.get("redo_lsn").asText()), "redo LSN");
        assertEquals(before.replay(), Lsn.parse(set.get("replay_lsn").asText()), "replay LSN");
        assertEquals(before.lastCommit(), Instant.parse(set.get("replay_time").asText()), "last replayed commit");
        assertEquals(before.versionNum(), set.get("pg_version").asInt());
        assertEquals(major, set.get("pg_version").asInt() / 10000);
        assertEquals(systemIdentifier, set.get("system_identifier").asText());
    }

    private StandbyFacts standbyFacts() {
        String[] f = standby.psql("select (c).timeline_id, (c).redo_lsn, pg_last_wal_replay_lsn(),"
                        + " to_char(pg_last_xact_replay_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                        + " current_setting('server_version_num') from (select pg_control_checkpoint() c) s")
                .split("\\|");
        return new StandbyFacts(
                Long.parseLong(f[0]), Lsn.parse(f[1]), Lsn.parse(f[2]), Instant.parse(f[3]), Integer.parseInt(f[4]));
    }

    // ------------------------------------------------------------------ restores

    @Test
    void restoresToATimeAndTheInstanceStartsItsOwnTimeline() throws Exception {
        List<String> archivedBefore = listing(lab.archive());
        ZpitrRun r = restore("rtime", "--to-time", afterRow101Time);
        assertTrue(r.out().contains("reached:  recovery stopping before commit of transaction"), r.out());
        assertRows("rtime", "101");
        assertEquals(
                Integer.toString(major), sql("rtime", "select current_setting('server_version_num')::int / 10000"));
        assertRecoverySettings("rtime", "recovery_target_time");
        // 18's initdb turns data checksums on by default: the clone carries the cluster's setting.
        assertEquals(lab.primary().psql("show data_checksums"), sql("rtime", "show data_checksums"));
        if (major >= 18) {
            assertEquals("on", sql("rtime", "show data_checksums"), "18's default");
        }

        // Promoted and writable, on a new timeline of its own.
        assertEquals("f", sql("rtime", "select pg_is_in_recovery()"), "promoted by default");
        sql("rtime", "insert into t (id, note) values (900, 'written on the restore') returning id");
        assertEquals("900", sql("rtime", "select id from t where id = 900"));
        // (pg_control's timeline may lag: from 14 the checkpoint after a promotion runs in the background.)
        assertEquals(
                "00000002",
                sql("rtime", "select substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"),
                "the promotion started timeline 2");
        // Its first full segment on that timeline, and the timeline's history file.
        String tl2Segment = sql("rtime", "select pg_walfile_name(pg_switch_wal())");
        assertTrue(tl2Segment.startsWith("00000002"), tl2Segment);

        // Never archives into production.
        assertEquals("off", sql("rtime", "show archive_mode"), "a restore never archives");
        assertEquals(archivedBefore, listing(lab.archive()), "nothing reached the production archive");

        // Real WAL of the new timeline passes wal-fetch; a timeline-2 segment named as timeline 1 does not.
        Path pgWal = clonedPgdata("rtime").resolve("pg_wal");
        Path promoted = Files.createDirectories(lab.root().resolve("promoted-wal"));
        Files.copy(pgWal.resolve("00000002.history"), promoted.resolve("00000002.history"));
        Files.copy(pgWal.resolve(tl2Segment), promoted.resolve(tl2Segment));
        Path fromPromoted = writeConfig(
                Files.createDirectories(lab.root().resolve("promoted")).resolve("zpitr.yaml"),
                binDir,
                List.of(promoted));
        WalVerifier verifier = new WalVerifier();
        for (String name : List.of("00000002.history", tl2Segment)) {
            Path dest = lab.root().resolve("fetched-" + name);
            ZpitrRun f = ZpitrRun.withConfig(fromPromoted, "wal-fetch", name, dest.toString());
            assertEquals(0, f.code(), name + ": " + f.err());
            assertTrue(verifier.verify(dest, WalFileName.of(name)).ok());
        }
        assertTrue(
                Files.readString(promoted.resolve("00000002.history")).startsWith("1\t"), "timeline 2's parent is 1");
        String asTimeline1 = "00000001" + tl2Segment.substring(8);
        Files.copy(pgWal.resolve(tl2Segment), promoted.resolve(asTimeline1));
        ZpitrRun wrong = ZpitrRun.withConfig(
                fromPromoted,
                "wal-fetch",
                asTimeline1,
                lab.root().resolve("wrong-tl").toString());
        assertEquals(5, wrong.code(), wrong.err());
        assertTrue(wrong.err().contains("the name says timeline 1"), wrong.err());
        Files.writeString(promoted.resolve("00000003.history"), "1\t0/3000000\tcut sho");
        ZpitrRun cut = ZpitrRun.withConfig(
                fromPromoted,
                "wal-fetch",
                "00000003.history",
                lab.root().resolve("cut").toString());
        assertEquals(5, cut.code(), cut.err());
        assertTrue(cut.err().contains("cut short"), cut.err());

        drop("rtime");
    }

    @Test
    void restoresToAnLsn() throws Exception {
        restore("rlsn", "--to-lsn", afterRow101Lsn);
        assertRows("rlsn", "101");
        assertRecoverySettings("rlsn", "recovery_target_lsn");
        drop("rlsn");
    }

    @Test
    void restoresToATransaction() throws Exception {
        restore("rxid", "--to-xid", Long.toString(xidOfRow102));
        assertRows("rxid", "101,102");
        assertRecoverySettings("rxid", "recovery_target_xid");
        drop("rxid");
    }

    @Test
    void restoresToARestorePointAndPausesThere() throws Exception {
        restore("rname", "--to-name", "before_102", "--action", "pause");
        assertRows("rname", "101");
        assertEquals("t", sql("rname", "select pg_is_in_recovery()"), "paused at the target, still in recovery");
        assertEquals("t", sql("rname", "select pg_is_wal_replay_paused()"));
        Path pgdata = clonedPgdata("rname");
        if (major < 12) {
            assertTrue(
                    Files.readString(pgdata.resolve("recovery.conf")).contains("recovery_target_name = 'before_102'"),
                    "recovery.conf, written by zpitr, drives the paused recovery");
        } else {
            assertTrue(Files.exists(pgdata.resolve("recovery.signal")), "recovery.signal is in place while paused");
            assertEquals("before_102", sql("rname", "show recovery_target_name"));
        }
        drop("rname");
    }

    /** The end of the archive: every archived commit. Bounded: a restore that never returns fails here. */
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void restoresToTheEndOfTheArchive() throws Exception {
        restore("rlatest", "--latest");
        assertRows("rlatest", "101,102,103");
        assertEquals("f", sql("rlatest", "select pg_is_in_recovery()"), "promoted at the end of the archive");
        drop("rlatest");
    }

    /**
     * A drill on this major: pg_amcheck where bin_dir has it (Debian's 15), the amcheck extension's
     * functions where it does not (the server-only builds of 11, 16-18), heap checking recorded as
     * not available before 14; the clone is gone afterwards.
     */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aDrillChecksTheSetWithWhatThisMajorHas() throws Exception {
        ZpitrRun r = zpitr("drill", "--snapshot", snapshotId, "--latest", "--format", "json");
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals("passed", doc.get("result").asText(), doc.toString());
        java.util.Map<String, JsonNode> checks = new java.util.LinkedHashMap<>();
        doc.get("checks").forEach(c -> checks.put(c.get("name").asText(), c));
        assertEquals("passed", checks.get("target").get("status").asText(), doc.toString());
        assertEquals("passed", checks.get("amcheck").get("status").asText(), doc.toString());
        if (major < 14) {
            assertEquals(
                    "not_available", checks.get("amcheck heap").get("status").asText(), doc.toString());
        } else {
            assertFalse(checks.containsKey("amcheck heap"), doc.toString());
            assertTrue(
                    checks.get("amcheck").get("detail").asText().matches("(pg_amcheck|verify_heapam) .*"),
                    doc.toString());
        }
        assertFalse(
                pool.zfs("list", "-H", "-o", "name", "-r", pool.name()).contains("/restore/drill-"),
                "the drill's clone is gone");
    }

    @Test
    void anotherMajorsBinariesAreRefusedBeforeAnythingIsCloned() throws Exception {
        int other = major == PostgresBinaries.DEBIAN_MAJOR ? 16 : PostgresBinaries.DEBIAN_MAJOR;
        Path otherConfig = writeConfig(
                Files.createDirectories(lab.root().resolve("other-major")).resolve("zpitr.yaml"),
                PostgresBinaries.forMajor(other),
                List.of(lab.archive()));
        String datasetsBefore = pool.zfs("list", "-H", "-o", "name", "-r", pool.name());
        for (List<String> args : List.of(List.of("--dry-run"), List.<String>of())) {
            List<String> argv = new ArrayList<>(List.of("restore", "--to-time", afterRow101Time, "--name", "rother"));
            argv.addAll(args);
            ZpitrRun r = ZpitrRun.withConfig(otherConfig, argv.toArray(String[]::new));
            assertEquals(2, r.code(), r.out() + r.err());
            assertTrue(
                    r.err().contains("PostgreSQL " + major)
                            && r.err().contains("PostgreSQL " + other)
                            && r.err().contains("postgres.bin_dir")
                            && r.err().contains("HINT:"),
                    r.err());
        }
        assertEquals(datasetsBefore, pool.zfs("list", "-H", "-o", "name", "-r", pool.name()), "nothing was cloned");
    }

    // ------------------------------------------------------------------ helpers

    ZpitrRun zpitr(String... args) {
        return ZpitrRun.withConfig(config, args);
    }

    /** {@code zpitr restore ... --name NAME}, which must succeed; the restore is dropped after the class at the latest. */
    private ZpitrRun restore(String name, String... args) {
        restoreNames.add(name);
        List<String> argv = new ArrayList<>(List.of("restore", "--name", name));
        argv.addAll(List.of(args));
        ZpitrRun r = zpitr(argv.toArray(String[]::new));
        assertEquals(0, r.code(), "exit " + r.code() + "\n" + r.out() + r.err());
        return r;
    }

    private void drop(String name) {
        zpitr("restore-drop", name).assertSucceeded();
        assertFalse(Files.exists(clonedPgdata(name)), "the clone of " + name + " is gone");
    }

    private Path clonedPgdata(String name) {
        return mountRoot.resolve(name).resolve("data/pgdata");
    }

    /** Rows after the snapshot are exactly {@code ids}; the 100 before it are all there. */
    private void assertRows(String name, String ids) throws Exception {
        assertEquals(
                ids, sql(name, "select string_agg(id::text, ',' order by id) from t where id between 101 and 199"));
        assertEquals("100", sql(name, "select count(*) from t where id <= 100"));
    }

    /**
     * The recovery settings, as this major reads them: {@code recovery.conf} on 11 (renamed
     * {@code recovery.done} by the promotion), {@code postgresql.auto.conf} from 12 (where the
     * server shows them as settings) with {@code recovery.signal}, and never both.
     */
    private void assertRecoverySettings(String name, String targetSetting) throws Exception {
        Path pgdata = clonedPgdata(name);
        String auto = Files.readString(pgdata.resolve("postgresql.auto.conf"));
        assertTrue(auto.contains("archive_mode = 'off'"), auto);
        String log = Files.readString(mountRoot.resolve(name).resolve("postgresql.log"));
        assertTrue(log.contains("starting point-in-time recovery to"), log);
        if (major < 12) {
            assertFalse(Files.exists(pgdata.resolve("recovery.signal")), "PostgreSQL 11 knows no recovery.signal");
            String done = Files.readString(pgdata.resolve("recovery.done"));
            assertTrue(done.contains(targetSetting + " = ") && done.contains("restore_command = "), done);
            assertFalse(
                    auto.contains("recovery_target"),
                    "11 would refuse recovery settings in postgresql.auto.conf: " + auto);
        } else {
            assertFalse(Files.exists(pgdata.resolve("recovery.conf")), "12+ refuses to start with a recovery.conf");
            assertTrue(auto.contains(targetSetting + " = ") && auto.contains("restore_command = "), auto);
            assertFalse(sql(name, "show " + targetSetting).isEmpty(), "the server read " + targetSetting);
        }
    }

    /** The first column of the first row, over PgJDBC to the restored instance on its own port. */
    String sql(String name, String query) throws Exception {
        JsonNode all = new ObjectMapper()
                .readTree(
                        zpitr("restores", "--format", "json").assertSucceeded().out());
        for (JsonNode r : all) {
            if (r.get("name").asText().equals(name)) {
                String url = "jdbc:postgresql://127.0.0.1:" + r.get("port").asText() + "/postgres";
                try (Connection c = DriverManager.getConnection(url, "postgres", "");
                        Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery(query)) {
                    return rs.next() ? String.valueOf(rs.getString(1)) : "";
                } catch (SQLException e) {
                    throw new AssertionError("restore " + name + ": " + query + ": " + e.getMessage(), e);
                }
            }
        }
        throw new AssertionError("no restore " + name);
    }

    private static List<String> listing(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    /** A zpitr config of this scenario's pool and archive, with {@code binDir} and these local sources. */
    private Path writeConfig(Path file, Path bin, List<Path> sources) throws IOException {
        // Each config its own state folder: wal-fetch run here as root must leave nothing in the
        // standby's that its wal-fetch, run as postgres, could not write.
        Path state = Files.createDirectories(file.resolveSibling("state"));
        StringBuilder s = new StringBuilder("timezone: UTC\nstate_dir: " + state + "\n"
                + "zfs:\n  datasets: [" + pool.name() + "/pg/data]\n"
                + "postgres:\n  bin_dir: " + bin + "\n  data_dir: "
                + pool.mountpoint().resolve("pg/data/pgdata")
                + "\n  os_user: postgres\n"
                + "archive:\n  prefetch: " + (file.equals(config) ? 4 : 0) + "\n  sources:\n");
        for (int i = 0; i < sources.size(); i++) {
            s.append("    - {name: src")
                    .append(i + 1)
                    .append(", type: local, path: ")
                    .append(sources.get(i))
                    .append("}\n");
        }
        s.append("restore:\n  dataset_root: ")
                .append(pool.name())
                .append("/restore\n  mount_root: ")
                .append(mountRoot)
                .append("\n  port: ")
                .append(27000 + major * 10)
                .append("\n")
                .append("audit:\n  log: ")
                .append(lab.root().resolve("audit.jsonl"))
                .append("\n");
        Files.writeString(file, s);
        return file;
    }
}
