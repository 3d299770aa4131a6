// Test support: a real PostgreSQL 15 standby whose data directory lives on a zfs-fuse dataset.
package io.zpitr.appliance.daemon;

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

/**
 * A primary archiving into a folder ({@link WalLab}) and a standby restored from it with its PGDATA
 * on {@code <pool>/pg/data} (tablespace dataset {@code <pool>/pg/tblspc1} beside it; another parent
 * than {@code pg} where the pool holds other datasets there), set up as SnapshotCommandsTest does;
 * {@link #config} writes a zpitr config for it.
 */
public final class StandbyOnZfs implements AutoCloseable {
    private static final ProcessRunner RUNNER = new ProcessRunner();

    private final ZfsPool pool;
    private final WalLab lab;
    private final PostgresCluster standby;
    private final Path pgdata;
    private final String parent;

    private StandbyOnZfs(ZfsPool pool, WalLab lab, PostgresCluster standby, Path pgdata, String parent) {
        this.pool = pool;
        this.lab = lab;
        this.standby = standby;
        this.pgdata = pgdata;
        this.parent = parent;
    }

    /** Builds it on {@code pool} (started); {@code hostArchives} also receive every segment (see WalLab). */
    public static StandbyOnZfs start(ZfsPool pool, List<Path> hostArchives) throws Exception {
        return start(pool, hostArchives, "pg");
    }

    /** Builds it on {@code <pool>/<parent>/data} and {@code <pool>/<parent>/tblspc1}. */
    public static StandbyOnZfs start(ZfsPool pool, List<Path> hostArchives, String parent) throws Exception {
        WalLab lab = new WalLab(hostArchives);
        try {
            lab.insertRows(500);
            pool.zfs("create", pool.name() + "/" + parent);
            pool.zfs("create", pool.name() + "/" + parent + "/data");
            pool.zfs("create", pool.name() + "/" + parent + "/tblspc1");
            Path pgdata = pool.mountpoint().resolve(parent + "/data/pgdata");
            RUNNER.run(Command.of(
                            "chown",
                            "-R",
                            "postgres:postgres",
                            pool.mountpoint().resolve(parent).toString()))
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
            PostgresCluster standby = PostgresCluster.builder()
                    .dataDir(pgdata)
                    .initdb(false)
                    .setting("restore_command", "cp " + lab.archive() + "/%f %p")
                    .setting("hot_standby", "on")
                    .build()
                    .start();
            StandbyOnZfs s = new StandbyOnZfs(pool, lab, standby, pgdata, parent);
            try {
                lab.switchSegments(2, 500);
                s.waitUntilReplayed();
            } catch (RuntimeException | InterruptedException e) {
                s.close();
                throw e;
            }
            return s;
        } catch (Exception e) {
            lab.close();
            throw e;
        }
    }

    public WalLab lab() {
        return lab;
    }

    public PostgresCluster standby() {
        return standby;
    }

    public Path pgdata() {
        return pgdata;
    }

    /** The two datasets of the snapshot set, PGDATA's first. */
    public List<String> datasets() {
        return List.of(pool.name() + "/" + parent + "/data", pool.name() + "/" + parent + "/tblspc1");
    }

    public void waitUntilReplayed() throws InterruptedException {
        String target = lab.primary().psql("select pg_current_wal_lsn()");
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!"t".equals(standby.psql("select coalesce(pg_last_wal_replay_lsn() >= '" + target + "', false)"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("standby did not replay to " + target);
            }
            Thread.sleep(100);
        }
    }

    /**
     * Writes {@code <dir>/zpitr.yaml}: zone UTC, {@code state_dir} {@code <dir>/state}, the given
     * datasets and snapshot prefix, the standby (and primary), daily:1 retention, then {@code more}
     * (schedule, archive sections) verbatim.
     */
    public Path config(Path dir, String prefix, List<String> datasets, String more) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("zpitr.yaml");
        Files.writeString(
                file,
                "timezone: UTC\n"
                        + "state_dir: " + dir.resolve("state") + "\n"
                        + "zfs:\n  datasets: [" + String.join(", ", datasets) + "]\n  snapshot_prefix: " + prefix + "\n"
                        + "postgres:\n  bin_dir: /usr/lib/postgresql/15/bin\n  data_dir: " + pgdata + "\n"
                        + "  standby: {host: " + standby.socketDir() + ", port: " + standby.port()
                        + ", user: postgres}\n"
                        + "  primary: {host: " + lab.primary().socketDir() + ", port: "
                        + lab.primary().port() + ", user: postgres}\n"
                        + "retention: {keep_within: 0s, hourly: 0, daily: 1, weekly: 0, monthly: 0, yearly: 0}\n"
                        + more);
        return file;
    }

    @Override
    public void close() throws IOException {
        try {
            standby.close();
        } finally {
            lab.close();
        }
    }
}
