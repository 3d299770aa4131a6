package io.zpitr.appliance.standby;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.cli.ZpitrRun;
import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.wal.WalLab;
import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code zpitr standby init} on real components: a PostgreSQL 15 primary that demands a SCRAM
 * password from its replication role over TCP, a zfs-fuse dataset for PGDATA, pg_wal outside ZFS,
 * and the standby then started on the result: it must stream from the primary (so the passfile in
 * primary_conninfo works), restore archived WAL through {@code bin/zpitr wal-fetch} (so
 * restore_command works), and show the primary's new rows. The password must appear in no process
 * argument or environment and in no file but the documented passfile.
 */
class StandbyInitIT {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.ofSize(512L << 20);

    static final Path LAUNCHER = Path.of("..", "bin", "zpitr").toAbsolutePath().normalize();
    static final ProcessRunner RUNNER = new ProcessRunner();
    /** Distinctive, so a match is never an accident; ':' and '\' exercise the passfile's escaping. */
    static final String PASSWORD = "s3cretZp1tr:pw\\9";
    /** What every copy of the password contains, escaped or not. */
    static final String TOKEN = "s3cretZp1tr";

    static WalLab lab;
    static PostgresCluster standby;
    static Path home;
    static Path dataset;
    static Path passwordFile;

    @BeforeAll
    static void primaryWithAPasswordForItsReplicationRole() throws Exception {
        lab = new WalLab();
        PostgresCluster primary = lab.primary();
        primary.psql("create role replica with replication login password '" + PASSWORD + "'");
        // First match wins in pg_hba.conf: the line goes before the fixture's trust lines.
        Path hba = primary.dataDir().resolve("pg_hba.conf");
        Files.writeString(hba, "host replication replica 127.0.0.1/32 scram-sha-256\n" + Files.readString(hba));
        primary.psql("select pg_reload_conf()");
        ProcessResult noPassword = RUNNER.run(Command.of(primary.asPostgres(
                        "psql",
                        "-X",
                        "-w",
                        "-d",
                        "host=127.0.0.1 port=" + primary.port() + " user=replica dbname=postgres replication=true",
                        "-c",
                        "IDENTIFY_SYSTEM"))
                .environment(envWith("PGPASSFILE", "/dev/null")));
        assertFalse(noPassword.succeeded(), "the replication role must need its password");
        assertTrue(noPassword.stderr().contains("password"), noPassword.stderr());
        lab.insertRows(100);

        POOL.zfs("create", "-p", POOL.name() + "/pg/data");
        dataset = POOL.mountpoint().resolve("pg/data");
        home = lab.root().resolve("zpitr");
        Files.createDirectories(home);
        RUNNER.run(Command.of("chown", "postgres:postgres", home.toString())).requireSuccess();
        passwordFile = home.resolve("replica.password");
        Files.createFile(
                passwordFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(passwordFile, PASSWORD + "\n");
    }

    @AfterAll
    static void stopEverything() throws IOException {
        try {
            if (standby != null) {
                standby.close();
            }
        } finally {
            // wal-fetch started a prefetcher for the standby's configuration.
            RUNNER.run(Command.of("pkill", "-f", config("pgdata") + " wal-(prefetch|fetch )"));
            lab.close();
        }
    }

    /** The configuration of a standby whose PGDATA is {@code dataset/<dataDirName>}. */
    static Path config(String dataDirName) {
        return home.resolve("zpitr-" + dataDirName + ".yaml");
    }

    /** Its state_dir: each configuration has its own, owned by postgres (wal-fetch keeps its spool there). */
    static Path stateDir(String dataDirName) {
        return home.resolve("state-" + dataDirName);
    }

    static Path writeConfig(String dataDirName, Path dataDir) throws IOException {
        Path config = config(dataDirName);
        Files.createDirectories(stateDir(dataDirName));
        RUNNER.run(Command.of(
                        "chown", "postgres:postgres", stateDir(dataDirName).toString()))
                .requireSuccess();
        Files.writeString(
                config,
                "timezone: UTC\nstate_dir: " + stateDir(dataDirName) + "\n"
                        + "zfs:\n  datasets: [" + POOL.name() + "/pg/data]\n"
                        + "postgres:\n  bin_dir: /usr/lib/postgresql/15/bin\n  data_dir: " + dataDir
                        + "\n  os_user: postgres\n"
                        + "  primary: {host: 127.0.0.1, port: " + lab.primary().port()
                        + ", user: replica, database: postgres,"
                        + " password_file: " + passwordFile + "}\n"
                        + "archive:\n  prefetch: 2\n  sources:\n    - {name: lab, type: local, path: " + lab.archive()
                        + "}\n"
                        + "audit:\n  log: " + home.resolve("audit.jsonl") + "\n");
        return config;
    }

    static ZpitrRun zpitr(Path config, String... args) {
        return ZpitrRun.withConfig(config, args);
    }

    @Test
    void buildsAStandbyThatStreamsAndRestoresFromTheArchive() throws Exception {
        Path pgdata = dataset.resolve("pgdata");
        Path walDir = lab.root().resolve("standby-wal"); // outside ZFS, as the runbook advises
        Path config = writeConfig("pgdata", pgdata);

        // The argv the service builds: never the password.
        StandbyBuilder.Plan plan = new StandbyBuilder(
                        new Appliance(ConfigLoader.load(config), RUNNER, Clock.systemUTC()),
                        new PrintWriter(new StringWriter()),
                        LAUNCHER)
                .plan(new StandbyBuilder.Options(walDir, List.of(), "zpitr_it"));
        List<String> argv = plan.baseBackup().argv();
        assertTrue(argv.stream().noneMatch(a -> a.contains(TOKEN)), argv.toString());
        assertTrue(String.join(" ", argv).contains("-X stream -c fast"), argv.toString());
        assertTrue(argv.contains("--waldir=" + walDir), argv.toString());
        assertFalse(plan.primaryConninfo().contains(TOKEN), plan.primaryConninfo());
        assertFalse(Files.exists(pgdata), "planning changes nothing");

        // The real run, watched from /proc: no argv and no environment may carry the password.
        ZpitrRun init;
        try (ProcWatch watch = ProcWatch.start()) {
            init = zpitr(config, "standby", "init", "--waldir", walDir.toString(), "--application-name", "zpitr_it");
            watch.stop();
            assertTrue(watch.leaks.isEmpty(), "password seen in a process: " + watch.leaks);
            assertTrue(watch.sawBaseBackup.get(), "the watch saw pg_basebackup run");
        }
        System.out.println("zpitr standby init:\n" + init.out() + init.err());
        assertEquals(0, init.code(), init.out() + init.err());
        assertFalse((init.out() + init.err()).contains(TOKEN));
        assertTrue(init.out().contains("start it:") && init.out().contains("pg_ctl start -D " + pgdata), init.out());

        String auto = Files.readString(pgdata.resolve("postgresql.auto.conf"));
        assertTrue(Files.exists(pgdata.resolve("standby.signal")));
        assertTrue(auto.contains("restore_command = '" + LAUNCHER + " --config " + config + " wal-fetch %f %p'"), auto);
        assertTrue(
                auto.contains("primary_conninfo = 'host=127.0.0.1 port="
                        + lab.primary().port() + " user=replica application_name=zpitr_it passfile="
                        + stateDir("pgdata").resolve("primary.pgpass") + "'"),
                auto);
        assertTrue(auto.contains("recovery_target_timeline = 'latest'") && auto.contains("hot_standby = 'on'"), auto);
        assertTrue(Files.isSymbolicLink(pgdata.resolve("pg_wal")));
        assertEquals(walDir, Files.readSymbolicLink(pgdata.resolve("pg_wal")));
        assertEquals("postgres", Files.getOwner(pgdata).getName());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pgdata)));
        Path passfile = stateDir("pgdata").resolve("primary.pgpass");
        assertEquals("postgres", Files.getOwner(passfile).getName());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(passfile)));
        assertEquals(
                "127.0.0.1:" + lab.primary().port() + ":*:replica:s3cretZp1tr\\:pw\\\\9\n", Files.readString(passfile));
        try (Stream<Path> tmp = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertTrue(
                    tmp.noneMatch(p -> p.getFileName().toString().startsWith("zpitr-pgpass-")),
                    "the temporary passfile is gone");
        }

        // WAL archived before the standby starts comes through restore_command; the rest streams.
        lab.switchSegments(2, 100);
        standby = PostgresCluster.builder().dataDir(pgdata).initdb(false).build();
        standby.start();
        PostgresCluster primary = lab.primary();
        waitUntil(
                () -> "1"
                        .equals(
                                primary.psql(
                                        "select count(*) from pg_stat_replication where application_name = 'zpitr_it' and state = 'streaming'")),
                Duration.ofMinutes(2),
                "the standby streaming with the password from its passfile");
        primary.psql("insert into t (id, note) select g, 'after init' from generate_series(10001, 10050) g");
        lab.switchAndWait();
        waitUntil(
                () -> "50".equals(standby.psql("select count(*) from t where id > 10000")),
                Duration.ofMinutes(2),
                "the primary's new rows on the standby");
        assertEquals(
                primary.psql("select count(*) || ' ' || max(id) from t"),
                standby.psql("select count(*) || ' ' || max(id) from t"));
        assertEquals("t", standby.psql("select pg_is_in_recovery()"));
        assertTrue(
                Files.readString(standby.logFile()).contains("restored log file"),
                "restore_command (bin/zpitr wal-fetch) fed the standby from the archive");

        // The password is in the passfile and nowhere else we wrote or PostgreSQL copied.
        List<Path> holding = filesContaining(TOKEN, pgdata, walDir, stateDir("pgdata"));
        assertEquals(List.of(passfile), holding);
    }

    @Test
    void refusesANonEmptyDataDirectoryAndTouchesNothing() throws Exception {
        Path occupied = dataset.resolve("occupied");
        Files.createDirectories(occupied);
        Path kept = occupied.resolve("PG_VERSION");
        Files.writeString(kept, "precious\n");
        FileTime before = Files.getLastModifiedTime(kept);
        Path config = writeConfig("occupied", occupied);
        for (String[] args : List.of(new String[] {"standby", "init"}, new String[] {"standby", "init", "--dry-run"})) {
            ZpitrRun r = zpitr(config, args);
            assertEquals(2, r.code(), r.out() + r.err());
            assertTrue(
                    r.err().contains("postgres.data_dir " + occupied + " is not empty")
                            && r.err().contains("PG_VERSION"),
                    r.err());
        }
        try (Stream<Path> files = Files.list(occupied)) {
            assertEquals(List.of(kept), files.toList());
        }
        assertEquals("precious\n", Files.readString(kept));
        assertEquals(before, Files.getLastModifiedTime(kept));
        try (Stream<Path> state = Files.list(stateDir("occupied"))) {
            assertEquals(List.of(), state.toList(), "no passfile either");
        }

        Path outside = lab.root().resolve("not-on-zfs");
        ZpitrRun r = zpitr(writeConfig("outside", outside), "standby", "init");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("is not inside the first dataset"), r.err());
        assertFalse(Files.exists(outside));
    }

    @Test
    void aWrongPasswordFailsWithExit1AndLeavesNothingBehind() throws Exception {
        Path wrong = dataset.resolve("wrong");
        Path walDir = lab.root().resolve("wrong-wal");
        Path config = writeConfig("wrong", wrong);
        Path wrongPassword = home.resolve("wrong.password");
        Files.writeString(wrongPassword, "not-" + TOKEN + "\n");
        Files.writeString(config, Files.readString(config).replace(passwordFile.toString(), wrongPassword.toString()));
        ZpitrRun r = zpitr(config, "standby", "init", "--waldir", walDir.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(
                r.err().contains("password authentication failed")
                        && r.err().contains("HINT: check the password in " + wrongPassword),
                r.err());
        assertFalse(r.out().contains(TOKEN) || r.err().contains(TOKEN));
        assertFalse(Files.exists(wrong), "the data directory it created is gone again");
        assertFalse(Files.exists(walDir), "so is the pg_wal folder");
        try (Stream<Path> state = Files.list(stateDir("wrong"))) {
            assertEquals(List.of(), state.toList(), "no passfile for a standby that was not built");
        }
    }

    @Test
    void aDryRunPrintsThePlanAndChangesNothing() throws Exception {
        Path dry = dataset.resolve("dry");
        ZpitrRun r = zpitr(
                writeConfig("dry", dry),
                "standby",
                "init",
                "--dry-run",
                "--waldir",
                lab.root().resolve("dry-wal").toString());
        System.out.println("zpitr standby init --dry-run:\n" + r.out() + r.err());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("pg_basebackup -D " + dry + " -X stream -c fast"), r.out());
        assertTrue(
                r.out().contains("PGPASSFILE = a temporary copy") && r.out().contains("dry run: nothing was changed."),
                r.out());
        assertFalse(r.out().contains(TOKEN) || r.err().contains(TOKEN));
        assertFalse(Files.exists(dry));
        assertFalse(Files.exists(lab.root().resolve("dry-wal")));
    }

    // ------------------------------------------------------------------ helpers

    static Map<String, String> envWith(String name, String value) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeIf(k -> k.startsWith("PG"));
        env.put(name, value);
        return env;
    }

    static void waitUntil(BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                String log;
                try {
                    log = standby == null ? "" : Files.readString(standby.logFile());
                } catch (IOException e) {
                    log = e.toString();
                }
                throw new AssertionError(
                        "timed out after " + limit + " waiting for " + what + "\nstandby log:\n" + log);
            }
            Thread.sleep(200);
        }
    }

    /** Regular files below the roots whose bytes contain {@code token}. */
    static List<Path> filesContaining(String token, Path... roots) throws IOException {
        byte[] needle = token.getBytes(StandardCharsets.UTF_8);
        List<Path> found = new ArrayList<>();
        for (Path root : roots) {
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path p : walk.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
                        .toList()) {
                    byte[] bytes;
                    try {
                        bytes = Files.readAllBytes(p);
                    } catch (java.nio.file.NoSuchFileException e) {
                        continue; // PostgreSQL removed it meanwhile (a recycled segment, a temp file)
                    }
                    if (indexOf(bytes, needle) >= 0) {
                        found.add(p);
                    }
                }
            }
        }
        return found;
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /**
     * Reads every process's argv and environment from /proc while it runs, and remembers any that
     * holds the password. As root, /proc/PID/environ of other users' processes is readable.
     */
    static final class ProcWatch implements AutoCloseable {
        final Set<String> leaks = Collections.newSetFromMap(new ConcurrentHashMap<>());
        final AtomicBoolean sawBaseBackup = new AtomicBoolean();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread = new Thread(this::loop, "proc-watch");

        static ProcWatch start() {
            ProcWatch w = new ProcWatch();
            w.thread.setDaemon(true);
            w.thread.start();
            return w;
        }

        private void loop() {
            while (running.get()) {
                try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                    for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+"))
                            .toList()) {
                        String argv = read(p.resolve("cmdline"));
                        if (argv.contains("pg_basebackup")) {
                            sawBaseBackup.set(true);
                        }
                        if (argv.contains(TOKEN) || read(p.resolve("environ")).contains(TOKEN)) {
                            leaks.add(p.getFileName() + ": " + argv.replace('\0', ' '));
                        }
                    }
                } catch (IOException e) {
                    // a listing that raced with an exiting process: the next pass sees the rest
                }
            }
        }

        private static String read(Path file) {
            try {
                return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }
}
