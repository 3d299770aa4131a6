// Test support: a real PostgreSQL primary archiving real WAL segments into a folder.
package io.zpitr.appliance.wal;

import io.zpitr.fixtures.PostgresCluster;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A primary with {@code archive_mode = on} copying each segment into {@link #archive()}. */
public final class WalLab implements AutoCloseable {
    private final Path root;
    private final Path archive;
    private final PostgresCluster primary;
    private int nextId;

    public WalLab() throws IOException {
        this(List.of());
    }

    /**
     * A primary that also copies each segment into every folder of {@code hostArchives} (the
     * archive hosts' disks, as the runbook's archive_command does); those folders are made
     * writable for postgres.
     */
    public WalLab(List<Path> hostArchives) throws IOException {
        this(hostArchives, PostgresCluster.DEFAULT_BIN_DIR);
    }

    /** A primary of the PostgreSQL in {@code binDir} (another major, say from {@code PostgresBinaries}). */
    public WalLab(Path binDir) throws IOException {
        this(List.of(), binDir);
    }

    private WalLab(List<Path> hostArchives, Path binDir) throws IOException {
        root = Files.createTempDirectory(Path.of("/var/tmp"), "zpitr-wallab-");
        archive = root.resolve("archive");
        Files.createDirectories(archive);
        chownPostgres(root);
        chownPostgres(archive);
        primary = PostgresCluster.builder()
                .binDir(binDir)
                .setting("wal_level", "replica")
                .setting("archive_mode", "on")
                .setting("archive_command", archiveCommand(archive, hostArchives))
                .setting("max_wal_senders", "4")
                .build()
                .start();
        primary.psql("create table t (id int primary key, at timestamptz default now(), note text)");
    }

    private static String archiveCommand(Path archive, List<Path> hostArchives) throws IOException {
        StringBuilder command = new StringBuilder();
        for (Path host : hostArchives) {
            Files.createDirectories(host);
            chownPostgres(host);
            command.append("cp %p ").append(host).append("/%f && ");
        }
        // The lab's own copy lands last: its presence means every host has the segment.
        return command + "cp %p " + archive + "/%f.tmp && mv " + archive + "/%f.tmp " + archive + "/%f";
    }

    /**
     * A standby's data directory, {@code root()/standby}: a base backup of the primary without WAL
     * ({@code -X none}: restore_command brings it), {@code standby.signal}, owned by postgres.
     */
    public Path standbyBaseBackup() throws IOException {
        Path standbyDir = root.resolve("standby");
        ProcessRunner runner = new ProcessRunner();
        runner.run(Command.of(primary.asPostgres(
                                "pg_basebackup",
                                "-h",
                                primary.socketDir().toString(),
                                "-p",
                                Integer.toString(primary.port()),
                                "-U",
                                "postgres",
                                "-D",
                                standbyDir.toString(),
                                "-X",
                                "none",
                                "-c",
                                "fast"))
                        .timeout(Duration.ofMinutes(3)))
                .requireSuccess();
        Files.createFile(standbyDir.resolve("standby.signal"));
        runner.run(Command.of("chown", "-R", "postgres:postgres", standbyDir.toString()))
                .requireSuccess();
        return standbyDir;
    }

    public PostgresCluster primary() {
        return primary;
    }

    public Path archive() {
        return archive;
    }

    public Path root() {
        return root;
    }

    /** Inserts rows and switches WAL {@code count} times; returns the archived segment names. */
    public List<String> switchSegments(int count, int rowsEach) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            insertRows(rowsEach);
            names.add(switchAndWait());
        }
        return names;
    }

    /** Inserts {@code count} rows with the next ids; returns the highest id. */
    public synchronized int insertRows(int count) {
        primary.psql("insert into t (id, note) select g, 'row ' || g from generate_series(" + (nextId + 1) + ", "
                + (nextId + count) + ") g");
        nextId += count;
        return nextId;
    }

    /** Switches to a new segment and waits until the finished one is archived; returns its name. */
    public String switchAndWait() {
        String name = primary.psql("select pg_walfile_name(pg_switch_wal())");
        waitArchived(name);
        return name;
    }

    /** Switches WAL on the primary and waits until {@code standby} has replayed everything before the switch. */
    public void switchAndWaitFor(PostgresCluster standby) throws InterruptedException {
        String target = primary.psql("select pg_current_wal_lsn()");
        switchAndWait();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!"t".equals(standby.psql("select coalesce(pg_last_wal_replay_lsn() >= '" + target + "', false)"))) {
            if (System.nanoTime() > deadline) {
                String log;
                try {
                    log = Files.readString(standby.logFile());
                } catch (IOException e) {
                    log = e.toString();
                }
                throw new AssertionError("standby did not replay to " + target + "; its log:\n" + log);
            }
            Thread.sleep(200);
        }
    }

    public void waitArchived(String name) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.exists(archive.resolve(name))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " was not archived within 60 s; see " + primary.logFile());
            }
            pause();
        }
    }

    /**
     * Stops every zpitr process of {@code config} (prefetchers, a wal-fetch that stayed on), each by
     * its pid: TERM, KILL after a grace, until gone. Returns how many there were.
     */
    public static int stopZpitrProcesses(Path config) {
        List<ProcessHandle> left = io.zpitr.process.ProcessTrees.mentioning(config.toString());
        left.forEach(p -> io.zpitr.process.ProcessTrees.stop(p, Duration.ofSeconds(5)));
        return left.size();
    }

    /**
     * Waits until no zpitr process of {@code config} runs (what a prefetcher must do once the
     * PostgreSQL it serves is gone); those still running after {@code limit} are stopped, and the
     * wait fails naming them.
     */
    public static void awaitNoZpitrProcess(Path config, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!io.zpitr.process.ProcessTrees.mentioning(config.toString()).isEmpty()) {
            if (System.nanoTime() > deadline) {
                List<String> left = io.zpitr.process.ProcessTrees.mentioning(config.toString()).stream()
                        .map(p -> p.pid() + " " + p.info().commandLine().orElse("?"))
                        .toList();
                stopZpitrProcesses(config);
                throw new AssertionError(
                        "still running " + limit.toSeconds() + " s after what they served was gone: " + left);
            }
            Thread.sleep(100);
        }
    }

    static void chownPostgres(Path p) {
        new ProcessRunner()
                .run(Command.of("chown", "postgres:postgres", p.toString()))
                .requireSuccess();
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        primary.close();
        new ProcessRunner().run(Command.of("rm", "-rf", root.toString())).requireSuccess();
    }
}
