// A standby init killed in the middle of pg_basebackup: nothing runs on, the next run names what to clean, then builds.
package io.zpitr.appliance.standby;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.cli.ZpitrProcess;
import io.zpitr.appliance.cli.ZpitrRun;
import io.zpitr.appliance.wal.WalLab;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code zpitr standby init} (bin/zpitr, a process of its own) is SIGKILLed at a random point of
 * its pg_basebackup, twice. Each time: no pg_basebackup or runuser of it may run on, the temporary
 * copy of the password must be gone once the next run has looked, and the next run must refuse
 * with exit 2 naming the folders that hold the partial copy; once they are removed as its HINT
 * says, it builds the standby.
 */
class StandbyInitKillIT {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.ofSize(512L << 20);

    private static final ProcessRunner RUNNER = new ProcessRunner();
    /** What the machine may take to end a process tree whose parent died: runuser waits 2 s before its KILL. */
    private static final Duration NOTHING_LEFT_WITHIN = Duration.ofSeconds(15);

    @Test
    void aStandbyInitKilledDuringItsBaseBackupLeavesNothingRunningAndTheNextRunNamesWhatToClean() throws Exception {
        Random random = ZpitrProcess.seeded("StandbyInitKillIT");
        try (WalLab lab = new WalLab()) {
            // Enough data that the base backup takes a while on zfs-fuse: about 80 MB.
            lab.primary().psql("create table big (id int, pad text)");
            lab.primary().psql("insert into big select g, repeat(md5(g::text), 32) from generate_series(1, 70000) g");
            POOL.zfs("create", "-p", POOL.name() + "/pg/data");
            Path pgdata = POOL.mountpoint().resolve("pg/data/pgdata");
            Path walDir = lab.root().resolve("standby-wal");
            Path home = Files.createDirectories(lab.root().resolve("zpitr"));
            Path stateDir = Files.createDirectories(home.resolve("state"));
            Path password = home.resolve("replica.password");
            Files.writeString(password, "not-needed-with-trust\n");
            RUNNER.run(Command.of("chown", "-R", "postgres:postgres", home.toString()))
                    .requireSuccess();
            Path config = home.resolve("zpitr.yaml");
            Files.writeString(
                    config,
                    "timezone: UTC\nstate_dir: " + stateDir + "\n"
                            + "zfs:\n  datasets: [" + POOL.name() + "/pg/data]\n"
                            + "postgres:\n  bin_dir: /usr/lib/postgresql/15/bin\n  data_dir: " + pgdata
                            + "\n  os_user: postgres\n"
                            + "  primary: {host: " + lab.primary().socketDir() + ", port: "
                            + lab.primary().port()
                            + ", user: postgres, database: postgres, password_file: " + password + "}\n"
                            + "archive:\n  prefetch: 2\n  sources:\n    - {name: lab, type: local, path: "
                            + lab.archive() + "}\n");

            for (int round = 1; round <= 2; round++) {
                ZpitrProcess init = ZpitrProcess.start(
                        config,
                        home.resolve("init-" + round + ".out"),
                        "standby",
                        "init",
                        "--waldir",
                        walDir.toString());
                ZpitrProcess.await(
                        () -> !ZpitrProcess.mentioning("pg_basebackup -D " + pgdata)
                                        .isEmpty()
                                || !init.isAlive(),
                        Duration.ofMinutes(2),
                        "pg_basebackup to start");
                // The copy of ~110 MB can end within a second on a quiet machine: hold it (SIGSTOP)
                // the moment it is seen, let it copy for a random while, hold it again and kill the
                // init then, so that the kill lands during pg_basebackup at a random point of the copy.
                List<ProcessHandle> copier = io.zpitr.process.ProcessTrees.mentioning("pg_basebackup -D " + pgdata);
                signal(copier, "STOP");
                long delay = random.nextInt(400);
                signal(copier, "CONT");
                Thread.sleep(delay); // the random point: how far into the copy the kill lands
                signal(copier, "STOP");
                long copied = sizeOf(pgdata);
                boolean copying =
                        init.isAlive() && !copier.isEmpty() && copier.stream().allMatch(ProcessHandle::isAlive);
                init.kill();
                signal(copier, "CONT"); // so that it takes the signal its parent's death sends it
                System.out.printf(
                        "round %d: killed standby init %d ms into pg_basebackup, %d bytes copied%s%n",
                        round, delay, copied, copying ? "" : " (it had ended already: " + init.output() + ")");
                assertTrue(copying, "the kill must land during pg_basebackup; it printed: " + init.output());

                ZpitrProcess.awaitNoneMentioning(
                        pgdata.toString(), NOTHING_LEFT_WITHIN, "pg_basebackup of a killed standby init");

                Path passwordCopy = InitMark.earlier(stateDir)
                        .orElseThrow()
                        .passwordFolder()
                        .orElseThrow();
                assertTrue(Files.exists(passwordCopy), "the killed init left its password copy " + passwordCopy);
                ZpitrRun again = ZpitrRun.withConfig(config, "standby", "init", "--waldir", walDir.toString());
                assertEquals(2, again.code(), again.out() + again.err());
                assertTrue(
                        again.err().contains("an earlier zpitr standby init (pid " + init.pid() + ", started ")
                                && again.err().contains("was interrupted before it finished")
                                && again.err().contains(pgdata.toString()),
                        again.err());
                assertTrue(
                        again.err().contains("HINT: nothing can run on a partial copy: remove it (rm -rf " + pgdata),
                        again.err());
                assertFalse(Files.exists(passwordCopy), "the next run removed the killed one's password copy");
                // As the HINT says.
                RUNNER.run(Command.of("rm", "-rf", pgdata.toString(), walDir.toString()))
                        .requireSuccess();
            }

            ZpitrRun built = ZpitrRun.withConfig(config, "standby", "init", "--waldir", walDir.toString());
            assertEquals(0, built.code(), built.out() + built.err());
            assertTrue(Files.exists(pgdata.resolve("standby.signal")));
            assertTrue(Files.readString(pgdata.resolve("postgresql.auto.conf")).contains("wal-fetch %f %p"));
            assertFalse(Files.exists(stateDir.resolve(InitMark.FILE)), "no mark once an init has ended");
            assertEquals(List.of(), ZpitrProcess.mentioning(pgdata.toString()));
        }
    }

    private static void signal(List<ProcessHandle> processes, String signal) {
        for (ProcessHandle p : processes) {
            RUNNER.run(Command.of("kill", "-" + signal, Long.toString(p.pid())));
        }
    }

    private static long sizeOf(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .mapToLong(p -> p.toFile().length())
                    .sum();
        } catch (Exception e) {
            return -1; // pg_basebackup is creating and renaming files meanwhile: the figure is only printed
        }
    }
}
