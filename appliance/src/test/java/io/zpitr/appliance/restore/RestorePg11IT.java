package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.cli.ZpitrRun;
import io.zpitr.appliance.wal.WalLab;
import io.zpitr.fixtures.PostgresBinaries;
import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A point-in-time restore of PostgreSQL 11, the last major that reads its recovery settings from
 * {@code recovery.conf}: the server binaries are the real PostgreSQL 11.22 from Maven Central
 * ({@link PostgresBinaries}); a PG 11 primary archives into a folder; a PG 11 standby on a zfs-fuse
 * dataset is configured through its own {@code recovery.conf} ({@code standby_mode}, a
 * {@code restore_command} of {@code bin/zpitr wal-fetch}). After {@code zpitr snapshot}, a restore
 * to a time between two later commits must hold the first and not the second, and must have run
 * from the {@code recovery.conf} zpitr wrote (PostgreSQL 11 knows no {@code recovery.signal}).
 *
 * <p>The Maven Central bundle has only the server programs; its {@code pg_basebackup} and
 * {@code psql} are Debian's PostgreSQL 15 client programs, which support PostgreSQL 11 servers
 * (see {@link PostgresBinaries}).
 */
class RestorePg11IT {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.ofSize(384L << 20);

    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final ProcessRunner RUNNER = new ProcessRunner();
    static Path pg11;
    static WalLab lab;
    static PostgresCluster standby;
    static Path config;
    static Path mountRoot;
    static String afterRow101Time;
    static String afterRow101Lsn;
    static long xidOfRow102;

    @BeforeAll
    static void pg11StandbyOnZfsFedByWalFetch() throws Exception {
        pg11 = PostgresBinaries.binDir(11);
        lab = new WalLab(pg11);
        PostgresCluster primary = lab.primary();
        assertTrue(primary.psql("show server_version_num").startsWith("11"), "the primary is PostgreSQL 11");
        lab.insertRows(100);

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
        assertEquals("11", Files.readString(pgdata.resolve("PG_VERSION")).strip());

        Path home = lab.root().resolve("zpitr");
        Files.createDirectories(home.resolve("state"));
        mountRoot = POOL.mountpoint().resolve("restore");
        config = home.resolve("zpitr.yaml");
        Files.writeString(
                config,
                "timezone: UTC\nstate_dir: " + home.resolve("state") + "\n"
                        + "zfs:\n  datasets: [" + pool + "/pg/data]\n"
                        + "postgres:\n  bin_dir: " + pg11 + "\n  data_dir: " + pgdata + "\n  os_user: postgres\n"
                        + "archive:\n  prefetch: 4\n  sources:\n    - {name: nfs, type: local, path: " + lab.archive()
                        + "}\n"
                        + "restore:\n  dataset_root: " + pool + "/restore\n  mount_root: " + mountRoot
                        + "\n  port: 26532\n"
                        + "audit:\n  log: " + lab.root().resolve("audit.jsonl") + "\n");
        RUNNER.run(Command.of("chown", "-R", "postgres:postgres", home.toString()))
                .requireSuccess();

        // PostgreSQL 11: standby_mode and restore_command live in recovery.conf (in postgresql.conf they are
        // unknown parameters, and the server refuses to start).
        Files.writeString(
                pgdata.resolve("recovery.conf"),
                "standby_mode = 'on'\n" + "restore_command = '" + LAUNCHER + " --config " + config
                        + " wal-fetch %f %p'\n");
        RUNNER.run(Command.of(
                        "chown",
                        "postgres:postgres",
                        pgdata.resolve("recovery.conf").toString()))
                .requireSuccess();
        standby = PostgresCluster.builder()
                .binDir(pg11)
                .dataDir(pgdata)
                .initdb(false)
                .setting("hot_standby", "on")
                .build();
        standby.start();
        lab.switchAndWaitFor(standby);
        assertEquals("t", standby.psql("select pg_is_in_recovery()"));
        assertTrue(standby.psql("select version()").startsWith("PostgreSQL 11.22"), standby.psql("select version()"));
        // The config learns the live standby now that it runs.
        Files.writeString(
                config,
                Files.readString(config)
                        .replace(
                                "  os_user: postgres\n",
                                "  os_user: postgres\n  standby: {host: " + standby.socketDir() + ", port: "
                                        + standby.port() + ", user: postgres}\n"));

        ZpitrRun snap = zpitr("snapshot", "--label", "pg11");
        assertEquals(0, snap.code(), snap.out() + snap.err());

        // After the snapshot: row 101, the target time, row 102.
        Thread.sleep(1100);
        primary.psql("insert into t (id, note) values (101, 'after snapshot')");
        afterRow101Time = primary.psql("select clock_timestamp()");
        primary.psql("select pg_create_restore_point('pg11_point')");
        afterRow101Lsn = primary.psql("select pg_current_wal_lsn()");
        Thread.sleep(1100);
        xidOfRow102 = Long.parseLong(primary.psql("begin; insert into t (id, note) values (102, 'after the target');"
                        + " select txid_current(); commit;")
                .lines()
                .filter(l -> l.matches("\\d+"))
                .findFirst()
                .orElseThrow());
        lab.switchAndWaitFor(standby);
    }

    @AfterAll
    static void stop() throws IOException {
        if (config != null) {
            for (String n : List.of("r11time", "r11pause", "r11lsn", "r11xid", "r11name")) {
                zpitr("restore-drop", n);
            }
            RUNNER.run(Command.of("pkill", "-f", config + " wal-(prefetch|fetch )"));
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
                                pg11.resolve("psql").toString(),
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

    static Path clonedPgdata(String name) {
        return mountRoot.resolve(name).resolve("data/pgdata");
    }

    @Test
    void restoresToATimeThroughRecoveryConf() throws Exception {
        ZpitrRun r = zpitr("restore", "--to-time", afterRow101Time, "--name", "r11time");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("reached:  recovery stopping before commit of transaction"), r.out());
        assertTrue(restoredSql("r11time", "show server_version_num").startsWith("11"), "a PostgreSQL 11 instance");
        assertEquals(
                "101", restoredSql("r11time", "select string_agg(id::text, ',' order by id) from t where id > 100"));
        assertEquals("100", restoredSql("r11time", "select count(*) from t where id <= 100"));
        assertEquals("f", restoredSql("r11time", "select pg_is_in_recovery()"), "promoted by default");
        assertEquals("off", restoredSql("r11time", "show archive_mode"), "a drill never archives");

        // PostgreSQL 11 renames the recovery.conf it recovered with to recovery.done when it promotes.
        Path pgdata = clonedPgdata("r11time");
        assertFalse(Files.exists(pgdata.resolve("recovery.signal")), "PostgreSQL 11 knows no recovery.signal");
        assertFalse(Files.exists(pgdata.resolve("standby.signal")));
        assertFalse(Files.exists(pgdata.resolve("recovery.conf")), "consumed at promotion");
        String done = Files.readString(pgdata.resolve("recovery.done"));
        assertTrue(
                done.contains("# written by zpitr restore")
                        && done.contains("recovery_target_time = ")
                        && done.contains("recovery_target_action = 'pause'")
                        && !done.contains("standby_mode"),
                done);
        String log = Files.readString(mountRoot.resolve("r11time/postgresql.log"));
        assertTrue(log.contains("starting point-in-time recovery to"), log);

        // The live standby goes on replaying.
        lab.primary().psql("insert into t (id, note) select g, 'later' from generate_series(1001, 1010) g");
        lab.switchAndWaitFor(standby);
        assertEquals("10", standby.psql("select count(*) from t where id > 1000"));
        zpitr("restore-drop", "r11time").assertSucceeded();
        assertFalse(Files.exists(pgdata), "the clone is gone");
    }

    @Test
    void pausesAtTheTargetWithItsRecoveryConfInPlace() throws Exception {
        ZpitrRun r = zpitr("restore", "--to-time", afterRow101Time, "--name", "r11pause", "--action", "pause");
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(
                "101", restoredSql("r11pause", "select string_agg(id::text, ',' order by id) from t where id > 100"));
        assertEquals(
                "t", restoredSql("r11pause", "select pg_is_in_recovery()"), "paused at the target, still in recovery");
        assertEquals("t", restoredSql("r11pause", "select pg_is_wal_replay_paused()"));
        Path pgdata = clonedPgdata("r11pause");
        assertTrue(
                Files.readString(pgdata.resolve("recovery.conf")).contains("recovery_target_time = "),
                "recovery.conf, written by zpitr, drives the paused recovery");
        assertFalse(Files.exists(pgdata.resolve("recovery.signal")));
        ZpitrRun list = zpitr("restores");
        assertTrue(list.out().contains("r11pause") && list.out().contains("paused"), list.out());
        zpitr("restore-drop", "r11pause").assertSucceeded();
        assertFalse(Files.exists(pgdata), "the clone is gone");
    }

    @Test
    void restoresToAnLsnATransactionAndARestorePoint() throws Exception {
        for (String[] c : new String[][] {
            {"r11lsn", "--to-lsn", afterRow101Lsn, "101"},
            {"r11xid", "--to-xid", Long.toString(xidOfRow102), "101,102"},
            {"r11name", "--to-name", "pg11_point", "101"}
        }) {
            ZpitrRun r = zpitr("restore", c[1], c[2], "--name", c[0]);
            assertEquals(0, r.code(), r.out() + r.err());
            assertEquals(
                    c[3],
                    restoredSql(c[0], "select string_agg(id::text, ',' order by id) from t where id > 100"),
                    c[1]);
            assertEquals("f", restoredSql(c[0], "select pg_is_in_recovery()"), "promoted by default");
            assertTrue(
                    Files.readString(clonedPgdata(c[0]).resolve("recovery.done"))
                            .contains("recovery_target_"),
                    c[1]);
            zpitr("restore-drop", c[0]).assertSucceeded();
        }
    }
}
