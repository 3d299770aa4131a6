package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Point-in-time restores on real components: a PostgreSQL 15 standby whose data directory is on a
 * zfs-fuse dataset, with a tablespace on a second dataset and pg_wal outside ZFS, fed only by
 * {@code bin/zpitr wal-fetch}; restores to a time, an LSN, a transaction and a named restore point
 * must hold the rows committed before the target and none after it.
 */
class RestoreIT {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.ofSize(512L << 20);

    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final ProcessRunner RUNNER = new ProcessRunner();
    static WalLab lab;
    static PostgresCluster standby;
    static Path config;
    static Path mountRoot;
    static String afterRow101Time;
    static String afterRow101Lsn;
    static long xidOfRow102;

    @BeforeAll
    static void standbyOnZfsFedByWalFetch() throws Exception {
        lab = new WalLab();
        PostgresCluster primary = lab.primary();
        Path primaryTs = lab.root().resolve("primary-ts");
        Files.createDirectories(primaryTs);
        RUNNER.run(Command.of("chown", "postgres:postgres", primaryTs.toString()))
                .requireSuccess();
        primary.psql("create tablespace ts1 location '" + primaryTs + "'");
        primary.psql("create table ts_rows (id int primary key) tablespace ts1");
        primary.psql("insert into ts_rows select generate_series(1, 100)");
        lab.insertRows(100);

        String pool = POOL.name();
        POOL.zfs("create", pool + "/pg");
        POOL.zfs("create", pool + "/pg/data");
        POOL.zfs("create", pool + "/pg/tblspc1");
        Path pgdata = POOL.mountpoint().resolve("pg/data/pgdata");
        Path standbyTs = POOL.mountpoint().resolve("pg/tblspc1/ts");
        Path externalWal = lab.root().resolve("standby-wal"); // pg_wal outside ZFS, as the runbook advises
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
                                "fast",
                                "--waldir=" + externalWal,
                                "-T",
                                primaryTs + "=" + standbyTs))
                        .timeout(Duration.ofMinutes(3)))
                .requireSuccess();
        Files.createFile(pgdata.resolve("standby.signal"));

        Path home = lab.root().resolve("zpitr");
        Files.createDirectories(home);
        mountRoot = POOL.mountpoint().resolve("restore");
        config = home.resolve("zpitr.yaml");
        Files.writeString(
                config,
                "timezone: UTC\nstate_dir: " + home.resolve("state") + "\n"
                        + "zfs:\n  datasets: [" + pool + "/pg/data, " + pool + "/pg/tblspc1]\n"
                        + "postgres:\n  bin_dir: /usr/lib/postgresql/15/bin\n  data_dir: " + pgdata
                        + "\n  os_user: postgres\n"
                        + "archive:\n  prefetch: 4\n  sources:\n    - {name: nfs, type: local, path: " + lab.archive()
                        + "}\n"
                        + "restore:\n  dataset_root: " + pool + "/restore\n  mount_root: " + mountRoot
                        + "\n  port: 26432\n");
        Files.createDirectories(home.resolve("state"));
        RUNNER.run(Command.of("chown", "-R", "postgres:postgres", home.toString()))
                .requireSuccess();
        Files.writeString(
                config,
                Files.readString(config) + "audit:\n  log: " + lab.root().resolve("audit.jsonl") + "\n");

        standby = PostgresCluster.builder()
                .dataDir(pgdata)
                .initdb(false)
                .setting("restore_command", LAUNCHER + " --config " + config + " wal-fetch %f %p")
                .setting("hot_standby", "on")
                .build();
        standby.start();
        lab.switchAndWaitFor(standby);
        // Standby settings name the live standby; the config learns them now that it runs.
        Files.writeString(
                config,
                Files.readString(config)
                        .replace(
                                "  os_user: postgres\n",
                                "  os_user: postgres\n  standby: {host: " + standby.socketDir() + ", port: "
                                        + standby.port() + ", user: postgres}\n"));

        ZpitrRun snap = zpitr("snapshot", "--label", "base");
        assertEquals(0, snap.code(), snap.err());

        // After the snapshot: row 101, a restore point, row 102 in a known transaction, row 103.
        Thread.sleep(1100);
        primary.psql("insert into t (id, note) values (101, 'after snapshot')");
        primary.psql("insert into ts_rows values (101)");
        afterRow101Time = primary.psql("select clock_timestamp()");
        primary.psql("select pg_create_restore_point('before_102')");
        afterRow101Lsn = primary.psql("select pg_current_wal_lsn()");
        Thread.sleep(1100);
        xidOfRow102 = Long.parseLong(
                primary.psql("begin; insert into t (id, note) values (102, 'x'); select txid_current(); commit;")
                        .lines()
                        .filter(l -> l.matches("\\d+"))
                        .findFirst()
                        .orElseThrow());
        Thread.sleep(1100);
        primary.psql("insert into t (id, note) values (103, 'last')");
        lab.switchAndWaitFor(standby);
    }

    @AfterAll
    static void stop() throws IOException {
        for (String n : List.of(
                "rtime", "rlsn", "rxid", "rname", "rpause", "rbefore", "rbeyond", "rlatest", "rsnap", "rexcl",
                "rimm")) {
            zpitr("restore-drop", n);
        }
        RUNNER.run(Command.of("pkill", "-f", config + " wal-(prefetch|fetch )"));
        if (standby != null) {
            standby.close();
        }
        lab.close();
    }

    static ZpitrRun zpitr(String... args) {
        return ZpitrRun.withConfig(config, args);
    }

    /** psql against a restored instance, as postgres on its own socket folder and port. */
    static String restoredSql(String name, String sql) throws Exception {
        JsonNode all = new ObjectMapper()
                .readTree(zpitr("restores", "--format", "json").out());
        for (JsonNode r : all) {
            if (r.get("name").asText().equals(name)) {
                return RUNNER.run(Command.of(
                                "runuser",
                                "-u",
                                "postgres",
                                "--",
                                "/usr/lib/postgresql/15/bin/psql",
                                "-X",
                                "-A",
                                "-t",
                                "-h",
                                mountRoot.resolve(name).resolve("run").toString(),
                                "-p",
                                r.get("port").asText(),
                                "-d",
                                "postgres",
                                "-c",
                                sql))
                        .requireSuccess()
                        .stdout()
                        .strip();
            }
        }
        throw new AssertionError("no restore " + name);
    }

    static void assertRows(String name, String expectedIds, String expectedTs) throws Exception {
        assertEquals(
                expectedIds, restoredSql(name, "select string_agg(id::text, ',' order by id) from t where id > 100"));
        assertEquals(
                expectedTs,
                restoredSql(
                        name,
                        "select coalesce(string_agg(id::text, ',' order by id), '') from ts_rows where id > 100"));
        assertEquals("100", restoredSql(name, "select count(*) from t where id <= 100"));
    }

    @Test
    void restoresToATime() throws Exception {
        ZpitrRun r = zpitr("restore", "--to-time", afterRow101Time, "--name", "rtime");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("reached:  recovery stopping before commit of transaction"), r.out());
        assertRows("rtime", "101", "101");
        assertEquals("f", restoredSql("rtime", "select pg_is_in_recovery()"), "promoted by default");
        // Promoted from the pause at the target (PostgreSQL 13+), not resumed: no end-of-recovery
        // checkpoint to wait for before the instance answers.
        String log = Files.readString(mountRoot.resolve("rtime/postgresql.log"));
        assertTrue(log.contains("received promote request"), log);
        assertFalse(log.contains("checkpoint starting: end-of-recovery"), log);
        // A segment PostgreSQL reads a second time at the end of recovery comes from the link the
        // launcher kept, not from a JVM started to fetch it again (which would log its sessions
        // and misses), and those links are gone once the restore is promoted.
        String afterPromote = log.substring(log.indexOf("received promote request"));
        assertFalse(afterPromote.contains("jsch") || afterPromote.contains("zpitr wal-fetch:"), afterPromote);
        try (Stream<Path> spool = Files.list(RestoreService.spoolIn(mountRoot.resolve("rtime/data/pgdata")))) {
            assertTrue(
                    spool.noneMatch(p -> p.getFileName().toString().startsWith(".kept-")),
                    "no kept segment left in the spool");
        }
        assertEquals("off", restoredSql("rtime", "show archive_mode"), "a drill never archives");
        assertTrue(
                restoredSql("rtime", "select pg_tablespace_location(oid) from pg_tablespace where spcname = 'ts1'")
                        .startsWith(mountRoot.resolve("rtime").toString()),
                "the tablespace lives in the clone");
        // pg_wal: the restore's own, off ZFS like the live standby's, never the live standby's folder.
        Path restoreWal = config.resolveSibling("state/restore-wal/" + POOL.name() + "%restore%rtime/pg_wal");
        assertEquals(restoreWal, Files.readSymbolicLink(mountRoot.resolve("rtime/data/pgdata/pg_wal")));
        assertTrue(r.out().contains("the restore's own pg_wal is " + restoreWal), r.out());
        try (Stream<Path> files = Files.list(lab.archive())) {
            assertTrue(
                    files.noneMatch(p -> p.getFileName().toString().endsWith(".history")),
                    "the promoted restore pushed no timeline history into the production archive");
        }
        // The live standby goes on replaying.
        lab.primary().psql("insert into t (id, note) select g, 'later' from generate_series(1001, 1010) g");
        lab.switchAndWaitFor(standby);
        assertEquals("10", standby.psql("select count(*) from t where id > 1000"));
        // Its WAL came through the spool in the clone's pg_wal, filled by the restoring process,
        // which ended with it: nothing of the restore runs but its PostgreSQL.
        assertTrue(r.out().contains("WAL feed: prefetched "), r.out());
        assertNoProcessServes(mountRoot.resolve("rtime"));
        assertFalse(
                log.contains("the database system is starting up"),
                "zpitr never connects before the clone is consistent");
        zpitr("restore-drop", "rtime").assertSucceeded();
        assertEquals(0, zpitr("restore-drop", "rtime").code(), "dropping twice is fine");
        assertFalse(Files.exists(mountRoot.resolve("rtime/data")));
        assertFalse(Files.exists(config.resolveSibling("state/restores/rtime")), "nothing of it left in state_dir");
        assertFalse(Files.exists(restoreWal.getParent()), "its pg_wal and spool are gone with it");
    }

    @Test
    void restoresToAnLsn() throws Exception {
        ZpitrRun r = zpitr("restore", "--to-lsn", afterRow101Lsn, "--name", "rlsn", "--action", "shutdown");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("state:    shut down"), r.out());
        pgCtl(
                "start",
                "-w",
                "-D",
                mountRoot.resolve("rlsn/data/pgdata").toString(),
                "-l",
                mountRoot.resolve("rlsn/postgresql.log").toString());
        assertRows("rlsn", "101", "101");
        // Its clones destroyed by hand, not by restore-drop: its pg_wal off ZFS stays behind until
        // the next restore, which removes it; another config's folder in the same place it leaves.
        pgCtl("stop", "-w", "-D", mountRoot.resolve("rlsn/data/pgdata").toString());
        // Its restore_command, run again at that start, may have left a prefetcher: it goes with the server.
        Path walHome = config.resolveSibling("state/restore-wal/" + POOL.name() + "%restore%rlsn");
        long gone = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (io.zpitr.appliance.wal.PrefetcherProcess.running(walHome.resolve("zpitr-spool"))
                        .isPresent()
                || !io.zpitr.process.ProcessTrees.holding(mountRoot.resolve("rlsn"))
                        .isEmpty()) {
            assertTrue(System.nanoTime() < gone, "a zpitr process of restore rlsn runs 15 s after its server stopped");
            Thread.sleep(100);
        }
        // zfs-fuse calls a clone busy for about a second after its server stopped (ENVIRONMENT.md).
        for (int attempt = 1; ; attempt++) {
            var destroyed = RUNNER.run(Command.of("zfs", "destroy", "-r", POOL.name() + "/restore/rlsn"));
            if (destroyed.succeeded()) {
                break;
            }
            assertTrue(attempt < 40, "zfs destroy: " + destroyed.stderr());
            Thread.sleep(250);
        }
        assertTrue(Files.isDirectory(walHome.resolve("pg_wal")), "left behind by a zfs destroy");
        Path foreign = config.resolveSibling("state/restore-wal/" + POOL.name() + "%other%rlsn/pg_wal");
        Files.createDirectories(foreign);
        try {
            ZpitrRun next = zpitr("restore", "--immediate", "--name", "rsweep", "--action", "shutdown");
            assertEquals(0, next.code(), next.out() + next.err());
            assertTrue(next.out().contains("removed the pg_wal of restore rlsn, whose clones are gone"), next.out());
            assertFalse(Files.exists(walHome), "swept by the next restore");
            assertTrue(Files.isDirectory(foreign), "another dataset root's folder is not this config's to remove");
            zpitr("restore-drop", "rsweep").assertSucceeded();
        } finally {
            RestoreCatalog.deleteTree(foreign.getParent());
        }
        assertEquals(0, zpitr("restore-drop", "rlsn").code(), "nothing left to drop");
    }

    /** PostgreSQL 15's pg_ctl, run as postgres. */
    private static void pgCtl(String... args) {
        List<String> argv = new java.util.ArrayList<>(
                List.of("runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl"));
        argv.addAll(List.of(args));
        RUNNER.run(Command.of(argv)).requireSuccess();
    }

    @Test
    void restoresToATransaction() throws Exception {
        ZpitrRun r = zpitr("restore", "--to-xid", Long.toString(xidOfRow102), "--name", "rxid");
        assertEquals(0, r.code(), r.out() + r.err());
        assertRows("rxid", "101,102", "101");
        zpitr("restore-drop", "rxid").assertSucceeded();
    }

    @Test
    void restoresToANamedRestorePointAndPausesThere() throws Exception {
        ZpitrRun r = zpitr("restore", "--to-name", "before_102", "--name", "rname", "--action", "pause");
        assertEquals(0, r.code(), r.out() + r.err());
        assertRows("rname", "101", "101");
        assertEquals(
                "t", restoredSql("rname", "select pg_is_in_recovery()"), "paused at the target, still in recovery");
        ZpitrRun list = zpitr("restores");
        assertTrue(list.out().contains("rname") && list.out().contains("paused"), list.out());
        zpitr("restore-drop", "rname").assertSucceeded();
    }

    @Test
    void aTargetBeforeTheOldestSnapshotIsRefusedAndLeavesNoClone() throws Exception {
        ZpitrRun r = zpitr("restore", "--to-time", "2000-01-01 00:00:00+00", "--name", "rbefore");
        assertEquals(3, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("no snapshot set lies before"), r.err());
        assertFalse(POOL.zfs("list", "-H", "-o", "name", "-r", POOL.name()).contains("rbefore"));
        ZpitrRun dry = zpitr("restore", "--to-time", afterRow101Time, "--name", "rdry", "--dry-run");
        assertEquals(0, dry.code(), dry.err());
        assertTrue(dry.out().contains("dry run"), dry.out());
        assertFalse(
                POOL.zfs("list", "-H", "-o", "name", "-r", POOL.name()).contains("rdry"), "a dry run clones nothing");
    }

    @Test
    void aTargetBeyondTheArchiveFailsInsteadOfPromoting() throws Exception {
        String future = lab.primary().psql("select now() + interval '1 hour'");
        ZpitrRun r = zpitr("restore", "--to-time", future, "--name", "rbeyond");
        assertEquals(3, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("replay ended before"), r.err());
        assertFalse(
                POOL.zfs("list", "-H", "-o", "name", "-r", POOL.name()).contains("rbeyond"),
                "its clones were destroyed");
        assertTrue(r.out().contains("the restore's own pg_wal is "), r.out());
        assertFalse(
                Files.exists(config.resolveSibling("state/restore-wal/" + POOL.name() + "%restore%rbeyond")),
                "and its own pg_wal and spool with them");
        ZpitrRun audit = zpitr("audit", "--format", "json");
        assertTrue(
                audit.out()
                        .lines()
                        .anyMatch(l -> l.contains("\"restore\"") && l.contains("rbeyond") && l.contains("\"failed\"")),
                audit.out());
    }

    /** No process (a wal-fetch JVM, a prefetcher) has the restore's folder on its command line. */
    static void assertNoProcessServes(Path restoreMount) {
        List<String> left = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains(restoreMount.toString()))
                .filter(p -> !p.info().commandLine().orElse("").contains("postgres"))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .toList();
        assertEquals(List.of(), left, "processes serving " + restoreMount + " after the restore returned");
    }

    @Test
    void restoresEverythingTheArchiveHoldsAndReturns() throws Exception {
        long start = System.nanoTime();
        ZpitrRun r = zpitr("restore", "--latest", "--name", "rlatest");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofMinutes(2)) < 0, "returned");
        assertTrue(r.out().contains("reached:  the end of the archived WAL"), r.out());
        assertRows("rlatest", "101,102,103", "101");
        assertEquals("f", restoredSql("rlatest", "select pg_is_in_recovery()"));
        restoredSql("rlatest", "insert into t (id, note) values (900, 'writable')");
        String log = Files.readString(mountRoot.resolve("rlatest/postgresql.log"));
        assertFalse(log.contains("recovery is not in progress"), "no recovery function after promotion");
        assertFalse(log.contains("the database system is starting up"), log);
        assertNoProcessServes(mountRoot.resolve("rlatest"));
        ZpitrRun pause = zpitr("restore", "--latest", "--action", "pause", "--name", "rlatestpause");
        assertEquals(2, pause.code(), pause.out() + pause.err());
        assertTrue(pause.err().contains("--latest cannot pause"), pause.err());
        zpitr("restore-drop", "rlatest").assertSucceeded();
    }

    @Test
    void restoresFromAChosenSnapshotJustBeforeTheTarget() throws Exception {
        String set = new ObjectMapper()
                .readTree(zpitr("list", "--format", "json").out())
                .get("snapshot_sets")
                .get(0)
                .get("id")
                .asText();
        ZpitrRun r = zpitr(
                "restore", "--to-xid", Long.toString(xidOfRow102), "--exclusive", "--snapshot", set, "--name", "rexcl");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("snapshot: " + set), r.out());
        assertRows("rexcl", "101", "101"); // stopped just before 102's commit
        zpitr("restore-drop", "rexcl").assertSucceeded();
        ZpitrRun unknown = zpitr("restore", "--latest", "--snapshot", "zpitr-20000101T000000Z", "--name", "rsnap");
        assertEquals(3, unknown.code(), unknown.out() + unknown.err());
        assertTrue(unknown.err().contains("no snapshot set 'zpitr-20000101T000000Z'"), unknown.err());
        assertFalse(POOL.zfs("list", "-H", "-o", "name", "-r", POOL.name()).contains("rsnap"));
    }

    @Test
    void restoresFromTheWalMirrorWhenNoArchiveSourceAnswers() throws Exception {
        // An archive of its own for this test (the others keep theirs), mirrored, then gone.
        Path home = config.getParent();
        Path archive = home.resolve("arch-then-gone");
        Files.createDirectories(archive);
        try (Stream<Path> files = Files.list(lab.archive())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, archive.resolve(f.getFileName()));
            }
        }
        Path mirrored = home.resolve("zpitr-mirrored.yaml");
        Files.writeString(
                mirrored,
                Files.readString(config)
                        .replace("path: " + lab.archive() + "}", "path: " + archive + "}")
                        .replace("archive:\n", "archive:\n  mirror_dir: " + home.resolve("wal-mirror") + "\n"));
        ZpitrRun fill = ZpitrRun.withConfig(mirrored, "wal-mirror");
        assertEquals(0, fill.code(), fill.out() + fill.err());
        assertTrue(
                fill.out().matches("(?s)WAL mirror: [1-9]\\d* segment\\(s\\) fetched.*end of archive.*"), fill.out());
        ZpitrRun again = ZpitrRun.withConfig(mirrored, "wal-mirror");
        assertTrue(again.out().startsWith("WAL mirror: 0 segment(s) fetched"), "a second pass copies nothing again");

        // The mirror short of the archive's end: the feed reads the mirror, then the rest from the
        // archive source, which NearMirrorEnd lets it ask once replay nears the mirror's end.
        List<Path> segments;
        try (Stream<Path> files = Files.list(home.resolve("wal-mirror"))) {
            segments = files.filter(f -> f.getFileName().toString().matches("[0-9A-F]{24}"))
                    .sorted()
                    .toList();
        }
        assertTrue(segments.size() >= 2, segments.toString());
        Files.delete(segments.get(segments.size() - 1));
        ZpitrRun tail = ZpitrRun.withConfig(mirrored, "restore", "--latest", "--name", "rmirrortail");
        assertEquals(0, tail.code(), tail.out() + tail.err());
        assertTrue(tail.out().contains("reached:  the end of the archived WAL"), tail.out());
        assertEquals("3", restoredSql("rmirrortail", "select count(*) from t where id in (101, 102, 103)"));
        assertNoProcessServes(mountRoot.resolve("rmirrortail"));
        ZpitrRun.withConfig(mirrored, "restore-drop", "rmirrortail").assertSucceeded();
        ZpitrRun refill = ZpitrRun.withConfig(mirrored, "wal-mirror");
        assertTrue(refill.out().startsWith("WAL mirror: 1 segment(s) fetched"), refill.out());
        try (Stream<Path> files = Files.walk(archive)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }

        // The archive source cannot be asked; the mirror holds the WAL since the newest set.
        ZpitrRun r = ZpitrRun.withConfig(mirrored, "restore", "--to-time", afterRow101Time, "--name", "rmirror");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("reached:  recovery stopping before commit of transaction"), r.out());
        assertRows("rmirror", "101", "101");
        assertNoProcessServes(mountRoot.resolve("rmirror"));
        ZpitrRun.withConfig(mirrored, "restore-drop", "rmirror").assertSucceeded();

        // --latest with no archive source to ask: replay ends at the mirror's end, and the report
        // does not call that the end of the archive.
        ZpitrRun latest = ZpitrRun.withConfig(mirrored, "restore", "--latest", "--name", "rmirrorlatest");
        assertEquals(0, latest.code(), latest.out() + latest.err());
        assertTrue(latest.out().contains("reached:  the end of the WAL that could be fetched"), latest.out());
        assertTrue(latest.out().contains("WARNING: no archive source could be asked for "), latest.out());
        // Every row of the copied archive (other tests may have added rows before it was copied).
        assertEquals("3", restoredSql("rmirrorlatest", "select count(*) from t where id in (101, 102, 103)"));
        ZpitrRun.withConfig(mirrored, "restore-drop", "rmirrorlatest").assertSucceeded();

        // Without archive.mirror_dir there is nothing to fill: a config error, nothing done.
        ZpitrRun none = zpitr("wal-mirror");
        assertEquals(2, none.code(), none.out() + none.err());
        assertTrue(none.err().contains("archive.mirror_dir is not set"), none.err());
    }

    @Test
    void restoresTheSnapshotsOwnPointImmediately() throws Exception {
        ZpitrRun r = zpitr("restore", "--immediate", "--name", "rimm");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("reached:  recovery stopping after reaching consistency"), r.out());
        assertEquals(
                "",
                restoredSql("rimm", "select coalesce(string_agg(id::text, ','), '') from t where id > 100"),
                "nothing written after the snapshot");
        assertEquals("100", restoredSql("rimm", "select count(*) from t where id <= 100"));
        assertEquals("f", restoredSql("rimm", "select pg_is_in_recovery()"));
        zpitr("restore-drop", "rimm").assertSucceeded();
    }
}
