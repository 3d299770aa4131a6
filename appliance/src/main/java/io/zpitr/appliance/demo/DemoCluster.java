// A PostgreSQL 15 cluster of the sandbox, run as the postgres OS user on a private port and socket folder.
package io.zpitr.appliance.demo;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import io.zpitr.process.ProcessTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One cluster: PostgreSQL refuses root, so initdb, pg_ctl and psql run through
 * {@code runuser -u postgres --}. Settings go to {@value #SETTINGS_FILE} in the data directory,
 * included from postgresql.conf: a base backup copies that file along, and the copy is simply
 * rewritten with the standby's own settings. No TCP listener: the sockets live in a private folder.
 */
final class DemoCluster {
    static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    static final String OS_USER = "postgres";
    static final String SETTINGS_FILE = "zpitr-demo.conf";
    private static final Duration PG_CTL_TIMEOUT = Duration.ofSeconds(90);

    private final ProcessRunner runner;
    private final String role;
    private final Path dataDir;
    private final Path socketDir;
    private final Path log;
    private final int port;

    DemoCluster(ProcessRunner runner, String role, Path dataDir, Path socketDir, Path log, int port) {
        this.runner = runner;
        this.role = role;
        this.dataDir = dataDir;
        this.socketDir = socketDir;
        this.log = log;
        this.port = port;
    }

    Path dataDir() {
        return dataDir;
    }

    Path socketDir() {
        return socketDir;
    }

    Path log() {
        return log;
    }

    int port() {
        return port;
    }

    /** What a user types to look at this cluster. */
    String psqlLine() {
        return "runuser -u postgres -- " + BIN.resolve("psql") + " -h " + socketDir + " -p " + port;
    }

    /** initdb as postgres: trust on the private socket only, C locale, UTF-8. */
    void initdb() throws IOException {
        Files.createDirectories(dataDir);
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        chownPostgres(dataDir);
        run(
                        asPostgres(
                                "initdb",
                                "-A",
                                "trust",
                                "-U",
                                "postgres",
                                "--locale=C",
                                "--encoding=UTF8",
                                "--no-sync",
                                "-D",
                                dataDir.toString()),
                        Duration.ofMinutes(2))
                .requireSuccess();
    }

    /** Writes this cluster's settings (port and sockets included) and makes postgresql.conf include them. */
    void writeSettings(Map<String, String> settings) throws IOException {
        Files.createDirectories(socketDir);
        Files.setPosixFilePermissions(socketDir, PosixFilePermissions.fromString("rwx------"));
        chownPostgres(socketDir);
        StringBuilder text = new StringBuilder("# written by zpitr demo for the " + role + "\n");
        Map<String, String> all = new java.util.LinkedHashMap<>();
        all.put("port", Integer.toString(port));
        all.put("unix_socket_directories", socketDir.toString());
        all.put("listen_addresses", "");
        all.put("cluster_name", "zpitr-demo-" + role);
        all.put("timezone", "UTC");
        all.put("log_timezone", "UTC");
        all.putAll(settings);
        all.forEach((k, v) ->
                text.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        Path file = dataDir.resolve(SETTINGS_FILE);
        Files.writeString(file, text);
        Path main = dataDir.resolve("postgresql.conf");
        String include = "include_if_exists = '" + SETTINGS_FILE + "'";
        if (Files.readAllLines(main).stream().noneMatch(include::equals)) {
            Files.writeString(main, "\n" + include + "\n", StandardOpenOption.APPEND);
        }
        chownPostgres(file);
    }

    /**
     * Starts the server and returns once it answers SQL. A standby answers only once it has
     * replayed to a consistent point, which needs WAL from the archive: hence the generous limit.
     */
    void start(Duration limit) throws IOException {
        if (!Files.exists(log)) {
            Files.createFile(log);
        }
        chownPostgres(log);
        run(asPostgres("pg_ctl", "start", "-W", "-D", dataDir.toString(), "-l", log.toString()), PG_CTL_TIMEOUT)
                .requireSuccess();
        Deadline.await(
                "the " + role + " to accept connections",
                limit,
                () -> trySql("select 1").isPresent() || exited(),
                this::logTail);
        if (exited()) {
            throw ZpitrError.FAILED.exception("the " + role + " stopped while starting\n" + logTail());
        }
    }

    private boolean exited() {
        // pg_ctl -W returns before the postmaster writes its pid file: give it that moment.
        return !Files.exists(dataDir.resolve("postmaster.pid")) && logText().contains("database system is shut down");
    }

    /** Runs SQL as postgres over the private socket; stdout without surrounding blanks. */
    String sql(String sql) {
        ProcessResult r = run(psqlArgv(sql), Duration.ofSeconds(60));
        if (!r.succeeded()) {
            throw ZpitrError.FAILED.exception(
                    "SQL on the " + role + " failed: " + sql + "\n" + r.stderr().strip());
        }
        return r.stdout().strip();
    }

    Optional<String> trySql(String sql) {
        ProcessResult r = run(psqlArgv(sql), Duration.ofSeconds(30));
        return r.succeeded() ? Optional.of(r.stdout().strip()) : Optional.empty();
    }

    private List<String> psqlArgv(String sql) {
        return asPostgres(
                "psql",
                "-X",
                "-A",
                "-t",
                "-F",
                " | ",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                socketDir.toString(),
                "-p",
                Integer.toString(port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                sql);
    }

    /** Makes the running server re-read its settings. */
    void reload() {
        run(asPostgres("pg_ctl", "reload", "-D", dataDir.toString()), PG_CTL_TIMEOUT)
                .requireSuccess();
    }

    /** Stops the server (fast shutdown) if it runs. */
    void stop() {
        stop(runner, dataDir);
    }

    /**
     * Stops the postmaster of {@code dataDir} if one runs: pg_ctl fast, then immediate, then SIGKILL.
     * Returns whether one ran.
     */
    static boolean stop(ProcessRunner runner, Path dataDir) {
        Path pidFile = dataDir.resolve("postmaster.pid");
        var postmaster = ProcessTrees.pidIn(pidFile)
                .flatMap(pid -> ProcessTrees.live(pid, ProcessTrees.executableEndsWith("postgres")));
        if (postmaster.isEmpty()) {
            return false;
        }
        for (String mode : List.of("fast", "immediate")) {
            ProcessResult r = runner.run(Command.of(
                            asPostgres(BIN, "pg_ctl", "stop", "-D", dataDir.toString(), "-m", mode, "-w", "-t", "60"))
                    .timeout(PG_CTL_TIMEOUT)
                    .environment(cleanEnvironment()));
            if (r.succeeded() && !ProcessTrees.alive(postmaster.get().pid())) {
                return true;
            }
        }
        ProcessTrees.stop(postmaster.get(), Duration.ofSeconds(5));
        return true;
    }

    /** The data directories of running postmasters whose {@code -D} lies below {@code folder}. */
    static List<Path> runningBelow(Path folder) {
        List<Path> found = new ArrayList<>();
        ProcessHandle.allProcesses()
                .filter(ProcessTrees.executableEndsWith("postgres"))
                .forEach(h -> {
                    String[] args = h.info().arguments().orElse(new String[0]);
                    for (int i = 0; i + 1 < args.length; i++) {
                        if (args[i].equals("-D")
                                && Path.of(args[i + 1]).normalize().startsWith(folder)) {
                            found.add(Path.of(args[i + 1]).normalize());
                        }
                    }
                });
        return found;
    }

    String logTail() {
        List<String> lines = logText().lines().toList();
        return "the " + role + "'s log (" + log + ") ends with:\n  "
                + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }

    private String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    List<String> asPostgres(String program, String... args) {
        return asPostgres(BIN, program, args);
    }

    static List<String> asPostgres(Path bin, String program, String... args) {
        List<String> argv = new ArrayList<>(
                List.of("runuser", "-u", OS_USER, "--", bin.resolve(program).toString()));
        argv.addAll(List.of(args));
        return argv;
    }

    ProcessResult run(List<String> argv, Duration timeout) {
        return runner.run(Command.of(argv).timeout(timeout).environment(cleanEnvironment()));
    }

    private void chownPostgres(Path p) {
        runner.run(Command.of("chown", OS_USER + ":", p.toString())).requireSuccess();
    }

    /** Our environment without PG* variables: a PGHOST or PGOPTIONS of the user's shell must not redirect psql. */
    static Map<String, String> cleanEnvironment() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeIf(k -> k.startsWith("PG"));
        return env;
    }
}
