// A restore killed at a random point: nothing of it runs on, `restores` shows it interrupted, restore-drop and the next
// restore clean up.
package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.cli.ZpitrProcess;
import io.zpitr.appliance.cli.ZpitrRun;
import io.zpitr.appliance.daemon.StandbyOnZfs;
import io.zpitr.fixtures.ZfsPool;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code zpitr restore --latest} (bin/zpitr, a process of its own) against a PostgreSQL 15 standby
 * on zfs-fuse, SIGKILLed at a random point of a whole restore's duration, three times. What a DBA
 * finds afterwards:
 * <ul>
 *   <li>nothing of the restore itself runs on (its WAL feed lived in its JVM; a {@code pg_ctl} or
 *       {@code zfs} it started ends by itself); the PostgreSQL it had started, if any, keeps
 *       running on the clone, as a server started by hand would;</li>
 *   <li>{@code zpitr restores} lists the restore as {@code interrupted} (not "building");</li>
 *   <li>{@code zpitr restore-drop} stops that PostgreSQL and destroys the clones, leaving no
 *       process; a restore of the same name cleans the leftover up by itself and succeeds.</li>
 * </ul>
 */
class RestoreKillIT {
    @RegisterExtension
    static final ZfsPool POOL = ZfsPool.ofSize(768L << 20);

    private static final ProcessRunner RUNNER = new ProcessRunner();
    private static final Duration RESTORE_LIMIT = Duration.ofMinutes(5);

    @Test
    void aRestoreKilledAtARandomPointLeavesNothingThatBlocksTheNext() throws Exception {
        Random random = ZpitrProcess.seeded("RestoreKillIT");
        try (StandbyOnZfs s = StandbyOnZfs.start(POOL, List.of())) {
            Path home = s.lab().root().resolve("zpitr");
            Path mountRoot = POOL.mountpoint().resolve("restore");
            Path config = s.config(
                    home,
                    "zpitr",
                    s.datasets(),
                    "archive:\n  prefetch: 4\n  sources:\n"
                            + "    - {name: nfs, type: local, path: " + s.lab().archive() + "}\n"
                            + "restore:\n  dataset_root: " + POOL.name() + "/restore\n  mount_root: " + mountRoot
                            + "\n  port: 26532\n");
            Files.createDirectories(home.resolve("state"));
            RUNNER.run(Command.of("chown", "-R", "postgres:postgres", home.toString()))
                    .requireSuccess();
            try {
                killAtRandomPoints(random, s, config, home, mountRoot);
            } finally {
                // Whatever failed: no restored PostgreSQL may keep the pool busy.
                for (int i = 0; i <= 3; i++) {
                    ZpitrRun.withConfig(config, "restore-drop", "rk" + i);
                }
            }
        }
    }

    private void killAtRandomPoints(Random random, StandbyOnZfs s, Path config, Path home, Path mountRoot)
            throws Exception {
        ZpitrRun.withConfig(config, "snapshot", "--label", "base").assertSucceeded();
        // WAL after the snapshot, so that a restore spends a while replaying.
        s.lab().switchSegments(6, 20_000);
        String rows = s.lab().primary().psql("select count(*) from t");

        long start = System.nanoTime();
        ZpitrProcess whole =
                ZpitrProcess.start(config, home.resolve("rk0.out"), "restore", "--latest", "--name", "rk0");
        assertEquals(0, whole.waitFor(RESTORE_LIMIT), whole.output());
        int wholeMillis = (int) ((System.nanoTime() - start) / 1_000_000);
        System.out.println("a whole restore took " + wholeMillis + " ms");
        assertEquals(rows, restoredSql(config, mountRoot, "rk0", "select count(*) from t"));
        dropLeavesTheLiveStandbyAlone(s, config, mountRoot);

        for (int round = 1; round <= 3; round++) {
            String name = "rk" + round;
            ZpitrProcess restore =
                    ZpitrProcess.start(config, home.resolve(name + ".out"), "restore", "--latest", "--name", name);
            // Within the first three quarters: later restores run faster than the first (a warm cache).
            int delay = random.nextInt(wholeMillis * 3 / 4);
            Thread.sleep(delay); // the random point
            boolean wasRunning = restore.isAlive();
            restore.kill();
            List<String> printed = restore.output().lines().toList();
            System.out.printf(
                    "round %d: killed restore %s %d ms after its start%s; its last line: %s%n",
                    round,
                    name,
                    delay,
                    wasRunning ? "" : " (it had ended already)",
                    printed.isEmpty() ? "(none)" : printed.get(printed.size() - 1));

            Path clone = mountRoot.resolve(name);
            ZpitrProcess.await(
                    () -> restoreProcesses(clone, config).isEmpty(),
                    Duration.ofSeconds(60),
                    "no process of the killed restore (pg_ctl, zfs, runuser): " + restoreProcesses(clone, config));

            Optional<JsonNode> listed = restoreNamed(config, name);
            // "running" is recorded as a restore's last step: killed after it, only its exit was cut short.
            boolean finished = !wasRunning
                    || listed.map(r -> r.get("state").asText().equals("running"))
                            .orElse(false);
            if (listed.isPresent() && wasRunning) {
                String state = listed.get().get("state").asText();
                assertTrue(
                        state.equals("interrupted") || state.equals("running"),
                        "restores shows " + name + " as " + state);
            }
            if (round < 3 || finished) {
                ZpitrRun drop = ZpitrRun.withConfig(config, "restore-drop", name);
                assertEquals(0, drop.code(), drop.out() + drop.err() + "\nprocesses then:\n" + processesOf(clone));
                ZpitrProcess.awaitNoneMentioning(
                        clone.toString(), Duration.ofSeconds(20), "after restore-drop " + name);
                assertEquals(Optional.empty(), restoreNamed(config, name));
                assertFalse(
                        POOL.zfs("list", "-H", "-o", "name", "-r", POOL.name()).contains("/" + name));
            }
        }

        // The last one is left as the kill left it (unless it had finished): a restore of the same
        // name cleans it up and succeeds.
        ZpitrRun again = ZpitrRun.withConfig(config, "restore", "--latest", "--name", "rk3");
        assertEquals(0, again.code(), again.out() + again.err());
        assertEquals(rows, restoredSql(config, mountRoot, "rk3", "select count(*) from t"));
        ZpitrRun.withConfig(config, "restore-drop", "rk3").assertSucceeded();
        ZpitrProcess.awaitNoneMentioning(mountRoot.toString(), Duration.ofSeconds(20), "after the last restore-drop");
        ZpitrProcess.awaitNoneMentioning(config.toString(), Duration.ofSeconds(10), "zpitr processes of " + config);
    }

    /**
     * Processes of the restore itself that mention its clone or configuration: anything but the
     * PostgreSQL it started (which runs on by design) and the wal-fetch calls that PostgreSQL makes.
     */
    private static List<String> restoreProcesses(Path clone, Path config) {
        return ProcessHandle.allProcesses()
                .filter(p -> ProcessTrees.alive(p.pid()))
                .filter(p -> {
                    String line = ProcessTrees.commandLine(p);
                    return line.contains(clone.toString()) || line.contains(config + " restore ");
                })
                .filter(p -> !p.info().command().orElse("").endsWith("/bin/postgres"))
                .filter(p -> {
                    String line = ProcessTrees.commandLine(p);
                    return !line.contains(" wal-fetch ") && !line.contains(" wal-prefetch");
                })
                .map(p -> p.pid() + " " + ProcessTrees.commandLine(p))
                .toList();
    }

    /**
     * A restore killed between its clone and its start leaves the {@code postmaster.pid} the snapshot
     * holds, which names the live standby's postmaster. Made here on rk0, whose server is stopped
     * first: restore-drop must not signal the standby, and must still drop the clones.
     */
    private static void dropLeavesTheLiveStandbyAlone(StandbyOnZfs s, Path config, Path mountRoot) throws Exception {
        Path livePid = s.pgdata().resolve("postmaster.pid");
        long standby = Long.parseLong(Files.readAllLines(livePid).get(0).strip());
        JsonNode rk0 = restoreNamed(config, "rk0").orElseThrow();
        Path clonePgdata = Path.of(rk0.get("pgdata").asText());
        RUNNER.run(asPostgres("pg_ctl", "stop", "-D", clonePgdata.toString(), "-m", "fast", "-w"))
                .requireSuccess();
        // As the snapshot holds it: the standby's file, owned by postgres.
        Files.copy(livePid, clonePgdata.resolve("postmaster.pid"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.setOwner(clonePgdata.resolve("postmaster.pid"), Files.getOwner(livePid));

        assertEquals(
                "stopped",
                restoreNamed(config, "rk0").orElseThrow().get("state").asText());
        ZpitrRun drop = ZpitrRun.withConfig(config, "restore-drop", "rk0");
        assertEquals(0, drop.code(), drop.out() + drop.err());
        assertTrue(ProcessTrees.alive(standby), "the live standby's postmaster " + standby + " was stopped");
        assertEquals(Optional.empty(), restoreNamed(config, "rk0"));
        assertEquals("1", s.standby().psql("select 1"));
    }

    /** What runs on the clone, with each process's state and where it waits in the kernel. */
    private static String processesOf(Path clone) {
        return RUNNER.run(Command.of("ps", "-eo", "pid,ppid,pgid,stat,wchan:32,etimes,args"))
                .stdout()
                .lines()
                .filter(l -> l.contains(clone.toString()) || l.contains("postgres") || l.contains("zpitr"))
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    private static Optional<JsonNode> restoreNamed(Path config, String name) throws Exception {
        ZpitrRun list =
                ZpitrRun.withConfig(config, "restores", "--format", "json").assertSucceeded();
        for (JsonNode r : new ObjectMapper().readTree(list.out())) {
            if (r.get("name").asText().equals(name)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    private static String restoredSql(Path config, Path mountRoot, String name, String sql) throws Exception {
        JsonNode r = restoreNamed(config, name).orElseThrow(() -> new AssertionError("no restore " + name));
        return RUNNER.run(asPostgres(
                        "psql",
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

    /** A PostgreSQL 15 program run as postgres. */
    private static Command asPostgres(String program, String... args) {
        List<String> argv = new java.util.ArrayList<>(
                List.of("runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/" + program));
        argv.addAll(List.of(args));
        return Command.of(argv);
    }
}
