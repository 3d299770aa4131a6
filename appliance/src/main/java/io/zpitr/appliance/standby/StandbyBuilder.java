// Builds the live standby from zero: pg_basebackup from the primary onto the first dataset, then its standby settings.
package io.zpitr.appliance.standby;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.PostgresSettings;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.postgres.OsUser;
import io.zpitr.archive.AtomicLanding;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.zfs.DatasetName;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code zpitr standby init}. {@link #plan} checks everything and changes nothing; {@link #build}
 * then runs {@code pg_basebackup -X stream -c fast} as {@code postgres.os_user} into
 * {@code postgres.data_dir} (which must be empty and inside the first dataset's mountpoint) and
 * writes the standby settings for the server's major.
 *
 * <p>The replication password never reaches an argv, a setting or a log line. pg_basebackup gets it
 * through {@code PGPASSFILE}: a temporary password file, mode 0600, owned by os_user in a folder
 * only os_user can enter, removed when pg_basebackup ends. The standby's walreceiver gets it
 * through {@code passfile=} in {@code primary_conninfo}, pointing at {@value #PASSFILE} in
 * {@code state_dir} (owned by os_user, mode 0600). Without {@code password_file}, libpq reads
 * os_user's {@code ~/.pgpass} in both places.
 */
public final class StandbyBuilder {
    /** The password file the standby's walreceiver reads, in state_dir. */
    public static final String PASSFILE = "primary.pgpass";

    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.:-]{0,252}|/[A-Za-z0-9/_.+-]*");
    private static final Pattern ROLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,62}");
    private static final Pattern APPLICATION_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,63}");
    /** Paths that reach pg_basebackup's argv, the conninfo and the settings: no quotes, no '=', no whitespace. */
    private static final Pattern SAFE_PATH = Pattern.compile("/[A-Za-z0-9/_.+@%,:-]*");

    private final Appliance appliance;
    private final Settings settings;
    private final PrintWriter out;
    private final Path launcher;

    /**
     * @param launcher the {@code bin/zpitr} the standby's restore_command runs
     */
    public StandbyBuilder(Appliance appliance, PrintWriter out, Path launcher) {
        this.appliance = appliance;
        this.settings = appliance.settings();
        this.out = out;
        this.launcher = launcher;
    }

    /** What the operator asked for. */
    public record Options(Path walDir, List<String> tablespaceMappings, String applicationName) {
        public Options {
            tablespaceMappings = tablespaceMappings == null ? List.of() : List.copyOf(tablespaceMappings);
        }
    }

    /** One {@code -T OLDDIR=NEWDIR} of pg_basebackup: the primary's tablespace folder and the standby's. */
    public record TablespaceMapping(Path primaryDir, Path standbyDir) {}

    /** The primary as pg_basebackup and the walreceiver reach it. */
    public record Primary(String host, int port, String user) {
        public String describe() {
            return user + "@" + host + ":" + port;
        }
    }

    /**
     * Everything {@link #build} will do, checked. Holds no password: {@code passwordFile} is where
     * it is read from, at build time.
     */
    public record Plan(
            String osUser,
            Path binDir,
            Path dataDir,
            Optional<Path> walDir,
            List<TablespaceMapping> tablespaces,
            Primary primary,
            Optional<Path> passwordFile,
            Path passfile,
            String applicationName,
            DatasetName dataset,
            Path datasetMountpoint,
            Command baseBackup,
            String restoreCommand) {
        /** The {@code primary_conninfo} the standby gets: no password, ever. */
        public String primaryConninfo() {
            Map<String, String> k = new LinkedHashMap<>();
            k.put("host", primary.host());
            k.put("port", Integer.toString(primary.port()));
            k.put("user", primary.user());
            k.put("application_name", applicationName);
            passwordFile.ifPresent(f -> k.put("passfile", passfile.toString()));
            return StandbySettings.conninfo(k);
        }

        /** The standby settings, in the order they are written. */
        public Map<String, String> standbySettings() {
            Map<String, String> s = new LinkedHashMap<>();
            s.put("restore_command", restoreCommand);
            s.put("primary_conninfo", primaryConninfo());
            s.put("recovery_target_timeline", "latest");
            return s;
        }
    }

    /** What {@link #build} did. */
    public record Result(int major, Duration took, List<String> written) {}

    // ------------------------------------------------------------------ plan

    /**
     * Checks the configuration, the target folders and the tools, and returns the plan. Changes
     * nothing.
     *
     * @throws io.zpitr.appliance.error.ZpitrException for a configuration or a target that cannot be
     *                                  used (exit 2): a missing key, a non-empty data directory, a
     *                                  data directory outside the first dataset
     */
    public Plan plan(Options options) throws IOException {
        PostgresSettings pg = settings.postgres();
        String osUser = pg.osUser();
        checkUser(osUser);
        Path binDir = pg.binDir();
        Path pgBasebackup = binDir.resolve("pg_basebackup");
        if (!Files.isExecutable(pgBasebackup)) {
            throw ZpitrError.SETUP_INVALID.exception(
                    "no pg_basebackup in postgres.bin_dir " + binDir
                            + "\nHINT: install the PostgreSQL server package of the primary's major, and point bin_dir at its bin folder");
        }
        Primary primary = primary(pg.primary());
        Optional<Path> passwordFile = pg.primary().flatMap(PostgresSettings.Connection::passwordFile);
        if (passwordFile.isPresent()) {
            readPassword(passwordFile.get()); // readable, one line, not empty: checked now, read again at build time
        }

        if (pg.dataDir().isEmpty()) {
            throw new ConfigException("postgres.data_dir is not configured in " + settings.file()
                    + "\nHINT: name the standby's PGDATA, a folder inside the first dataset of zfs.datasets");
        }
        Path dataDir = safePath("postgres.data_dir", pg.dataDir().get());
        if (settings.datasets().isEmpty()) {
            throw new ConfigException("zfs.datasets is empty: the standby's PGDATA belongs on the first dataset");
        }
        DatasetName dataset = settings.datasets().get(0);
        if (!appliance.zfs().exists(dataset)) {
            throw ZpitrError.SETUP_INVALID.exception("dataset " + dataset
                    + " (the first of zfs.datasets) does not exist" + "\nHINT: zfs create -p " + dataset);
        }
        String mountpointText = appliance.zfs().get(dataset, "mountpoint").orElse("");
        if (!mountpointText.startsWith("/")) {
            throw ZpitrError.SETUP_INVALID.exception("dataset " + dataset + " has no mountpoint (" + mountpointText
                    + ")" + "\nHINT: zfs set mountpoint=/" + dataset + " " + dataset);
        }
        if (!"yes".equals(appliance.zfs().get(dataset, "mounted").orElse(""))) {
            throw ZpitrError.SETUP_INVALID.exception(
                    "dataset " + dataset + " is not mounted: a base backup now would land on the"
                            + " folder below its mountpoint " + mountpointText + "\nHINT: zfs mount " + dataset);
        }
        Path mountpoint = Path.of(mountpointText);
        if (!real(dataDir).startsWith(mountpoint.toRealPath())) {
            throw new ConfigException("postgres.data_dir " + dataDir + " is not inside the first dataset " + dataset
                    + " (mounted at " + mountpoint + "): its snapshots would not hold PGDATA"
                    + "\nHINT: set postgres.data_dir to a folder below " + mountpoint + ", e.g. "
                    + mountpoint.resolve("pgdata"));
        }
        refuseAfterAnInterruptedInit();
        requireEmptyOrMissing(
                "postgres.data_dir",
                dataDir,
                "move its contents away or remove it: standby init never writes over an existing data directory");

        Optional<Path> walDir = Optional.ofNullable(options.walDir());
        if (walDir.isPresent()) {
            Path w = safePath("--waldir", walDir.get().toAbsolutePath().normalize());
            if (w.startsWith(dataDir) || dataDir.startsWith(w)) {
                throw ZpitrError.INVALID_ARGUMENT.exception(
                        "--waldir " + w + " and postgres.data_dir " + dataDir + " overlap"
                                + "\nHINT: give pg_wal a folder of its own, outside PGDATA (and outside ZFS, see docs/operations.md)");
            }
            requireEmptyOrMissing("--waldir", w, "choose another folder, or empty it");
            walDir = Optional.of(w);
        }

        List<TablespaceMapping> tablespaces = new ArrayList<>();
        for (String m : options.tablespaceMappings()) {
            tablespaces.add(tablespace(m, dataDir));
        }

        String applicationName =
                options.applicationName() != null ? options.applicationName() : defaultApplicationName();
        if (!APPLICATION_NAME.matcher(applicationName).matches()) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    "application name '" + applicationName
                            + "' must be 1-63 letters, digits and _ . - (it may appear in the primary's synchronous_standby_names)");
        }
        Path passfile = settings.stateDir().resolve(PASSFILE);
        if (passwordFile.isPresent()) {
            safePath("state_dir", passfile);
            requireSearchable(osUser, settings.stateDir());
        }

        List<String> argv = new ArrayList<>(List.of(
                pgBasebackup.toString(),
                "-D",
                dataDir.toString(),
                "-X",
                "stream",
                "-c",
                "fast",
                "-w",
                "-h",
                primary.host(),
                "-p",
                Integer.toString(primary.port()),
                "-U",
                primary.user()));
        walDir.ifPresent(w -> argv.add("--waldir=" + w));
        for (TablespaceMapping t : tablespaces) {
            argv.add("--tablespace-mapping=" + t.primaryDir() + "=" + t.standbyDir());
        }
        // A base backup of a large cluster takes hours: no time limit.
        Command baseBackup = Command.of(asUser(osUser, argv)).timeout(Duration.ZERO);
        String restoreCommand =
                StandbySettings.restoreCommand(launcher.toAbsolutePath().normalize(), settings.file());
        return new Plan(
                osUser,
                binDir,
                dataDir,
                walDir,
                List.copyOf(tablespaces),
                primary,
                passwordFile,
                passfile,
                applicationName,
                dataset,
                mountpoint,
                baseBackup,
                restoreCommand);
    }

    /** Prints the plan as a dry run shows it. */
    public void describe(Plan plan) {
        out.println("primary:   " + plan.primary().describe() + " (replication user), password "
                + plan.passwordFile()
                        .map(f -> "from " + f)
                        .orElse("from ~" + plan.osUser() + "/.pgpass, if one is needed"));
        out.println("data dir:  " + plan.dataDir() + " on " + plan.dataset()
                + (Files.exists(plan.dataDir()) ? "" : " (to be created, mode 0700, owner " + plan.osUser() + ")"));
        plan.walDir()
                .ifPresent(w -> out.println("pg_wal:    " + w + (Files.exists(w) ? "" : " (to be created)")
                        + (underADataset(w)
                                ? "  NOTE: on a configured dataset; docs/operations.md advises pg_wal outside ZFS"
                                : "")));
        for (TablespaceMapping t : plan.tablespaces()) {
            out.println("tablespace: " + t.primaryDir() + " -> " + t.standbyDir());
        }
        out.println("would run as " + plan.osUser() + ": "
                + String.join(" ", plan.baseBackup().argv()));
        plan.passwordFile()
                .ifPresent(f -> out.println("  with PGPASSFILE = a temporary copy of the password (mode 0600, owner "
                        + plan.osUser() + ", removed afterwards)"));
        out.println(
                "then write: standby.signal and postgresql.auto.conf (PostgreSQL 12 and later) or recovery.conf (11 and older):");
        plan.standbySettings().forEach((k, v) -> out.println("  " + k + " = " + StandbySettings.confValue(v)));
        out.println("  hot_standby = 'on'");
        plan.passwordFile()
                .ifPresent(f -> out.println("and " + plan.passfile() + " (owner " + plan.osUser()
                        + ", mode 0600) for primary_conninfo's passfile"));
    }

    // ------------------------------------------------------------------ build

    /**
     * Runs the plan: creates the target folders, runs pg_basebackup, writes the settings.
     *
     * @throws IllegalStateException when pg_basebackup fails (exit 1); the folders this run created
     *                               are removed again, and pg_basebackup empties those it wrote into
     */
    public Result build(Plan plan) throws IOException {
        long start = System.nanoTime();
        List<Path> created = new ArrayList<>();
        boolean done = false;
        List<Path> filled = new ArrayList<>();
        filled.add(plan.dataDir());
        plan.walDir().ifPresent(filled::add);
        plan.tablespaces().forEach(t -> filled.add(t.standbyDir()));
        InitMark mark = InitMark.write(settings.stateDir(), filled);
        try {
            prepareFolder(plan.dataDir(), plan.osUser(), created);
            if (plan.walDir().isPresent()) {
                prepareFolder(plan.walDir().get(), plan.osUser(), created);
            }
            for (TablespaceMapping t : plan.tablespaces()) {
                prepareFolder(t.standbyDir(), plan.osUser(), created);
            }
            out.println("running pg_basebackup from " + plan.primary().describe() + " into " + plan.dataDir()
                    + " (it copies the whole cluster: minutes to hours)");
            out.flush();
            mark = runBaseBackup(plan, mark);
            int major = Integer.parseInt(Files.readString(plan.dataDir().resolve("PG_VERSION"))
                    .strip()
                    .replaceAll("\\..*", ""));
            List<String> written = writeStandbySettings(plan, major);
            if (plan.passwordFile().isPresent()) {
                writePassfile(plan);
                written.add(plan.passfile().toString());
            }
            done = true;
            return new Result(major, Duration.ofNanos(System.nanoTime() - start), written);
        } finally {
            if (!done) {
                for (int i = created.size() - 1; i >= 0; i--) {
                    removeIfEmpty(created.get(i));
                }
            }
            mark.remove();
        }
    }

    /**
     * A standby init killed mid-way (SIGKILL, a power cut) leaves pg_basebackup's partial copy and
     * its mark ({@link InitMark}); say so, naming the folders, rather than only "not empty". Its
     * temporary copy of the password is removed at once: it serves nothing any more.
     */
    private void refuseAfterAnInterruptedInit() throws IOException {
        Optional<InitMark> earlier = InitMark.earlier(settings.stateDir());
        if (earlier.isEmpty()) {
            return;
        }
        InitMark mark = earlier.get();
        if (mark.running()) {
            throw ZpitrError.LOCKED.exception("another zpitr standby init (" + mark.describeProcess()
                    + ") is running for " + settings.file() + "\nHINT: wait for it to end; "
                    + settings.stateDir().resolve(InitMark.FILE) + " marks it");
        }
        mark.removePasswordCopy();
        List<Path> left = mark.leftovers();
        if (!left.isEmpty()) {
            StringBuilder rm = new StringBuilder("rm -rf");
            left.forEach(f -> rm.append(' ').append(f));
            throw ZpitrError.SETUP_INVALID.exception("an earlier zpitr standby init (" + mark.describeProcess()
                    + ") was interrupted before it finished: pg_basebackup's partial copy is still in "
                    + left.stream()
                            .map(Path::toString)
                            .reduce((a, b) -> a + ", " + b)
                            .orElse("")
                    + "; standby init changed nothing\nHINT: nothing can run on a partial copy: remove it (" + rm
                    + "), then run zpitr standby init again");
        }
    }

    /**
     * pg_basebackup ends with this JVM. Without this, a standby init killed mid-way left
     * pg_basebackup copying on, unseen, and its WAL streaming child (which waits on a pipe its
     * parent shares) streaming for good. setpriv gives GNU timeout (with no time limit) a
     * parent-death signal, TERM; timeout leads a process group of its own and passes a TERM it
     * receives on to that whole group: runuser, pg_basebackup and its child. The signal follows the
     * thread that started the process: the runner's synchronous run, which waits here.
     */
    private static Command endingWithUs(Command command) {
        List<String> argv = new ArrayList<>(List.of("setpriv", "--pdeathsig", "TERM", "--", "timeout", "0"));
        argv.addAll(command.argv());
        return Command.of(argv).timeout(command.timeout());
    }

    /** Runs pg_basebackup; returns the mark, naming the password copy's folder when there is one. */
    private InitMark runBaseBackup(Plan plan, InitMark mark) throws IOException {
        Map<String, String> env = new HashMap<>(System.getenv());
        // A PGHOST, PGPORT, PGSSLMODE... of the operator's shell must not redirect or weaken this connection.
        env.keySet().removeIf(name -> name.startsWith("PG"));
        env.putIfAbsent("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("PGAPPNAME", "zpitr standby init");
        Path tempFolder = null;
        try {
            if (plan.passwordFile().isPresent()) {
                tempFolder = Files.createTempDirectory(
                        "zpitr-pgpass-",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                mark = mark.withPasswordFolder(tempFolder);
                chown(plan.osUser(), tempFolder);
                Path pgpass = tempFolder.resolve("pgpass");
                writePrivate(
                        pgpass,
                        StandbySettings.pgpassLine(
                                plan.primary().host(),
                                plan.primary().port(),
                                plan.primary().user(),
                                readPassword(plan.passwordFile().get())),
                        plan.osUser());
                env.put("PGPASSFILE", pgpass.toString());
            }
            ProcessResult r =
                    appliance.runner().run(endingWithUs(plan.baseBackup()).environment(env));
            if (!r.succeeded()) {
                throw ZpitrError.PROCESS_FAILED.exception(
                        "pg_basebackup from " + plan.primary().describe() + " failed (exit " + r.exitCode() + "): "
                                + r.stderr().strip() + "\nHINT: " + hint(r.stderr(), plan));
            }
            return mark;
        } finally {
            if (tempFolder != null) {
                Files.deleteIfExists(tempFolder.resolve("pgpass"));
                Files.deleteIfExists(tempFolder);
            }
        }
    }

    private static String hint(String stderr, Plan plan) {
        if (stderr.contains("password authentication failed") || stderr.contains("no password supplied")) {
            return "check the password in "
                    + plan.passwordFile().map(Path::toString).orElse("~" + plan.osUser() + "/.pgpass")
                    + " for the role " + plan.primary().user();
        }
        if (stderr.contains("pg_hba.conf")) {
            return "the primary's pg_hba.conf needs a line: host replication "
                    + plan.primary().user()
                    + " <this standby's address>/32 scram-sha-256 (then select pg_reload_conf())";
        }
        if (stderr.contains("Connection refused")
                || stderr.contains("could not connect")
                || stderr.contains("timeout")) {
            return "is the primary reachable on " + plan.primary().host() + ":"
                    + plan.primary().port() + " (listen_addresses, firewall)?";
        }
        return "the primary needs wal_level = replica, max_wal_senders >= 2 free, and a role with REPLICATION";
    }

    /** standby.signal and postgresql.auto.conf (12 and later), or recovery.conf (11 and older). */
    private List<String> writeStandbySettings(Plan plan, int major) throws IOException {
        String stamp = "written by zpitr standby init, " + Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return RecoverySettingsFile.write(
                        plan.dataDir(),
                        major,
                        RecoverySettingsFile.Mode.STANDBY,
                        plan.standbySettings(),
                        Map.of("hot_standby", "on"),
                        stamp,
                        Optional.of(plan.osUser()))
                .stream()
                .map(Path::toString)
                .collect(java.util.stream.Collectors.toCollection(ArrayList::new)); // the caller adds to it
    }

    /** The walreceiver's password file in state_dir, replaced atomically. */
    private void writePassfile(Plan plan) throws IOException {
        Files.createDirectories(plan.passfile().getParent());
        String line = StandbySettings.pgpassLine(
                plan.primary().host(),
                plan.primary().port(),
                plan.primary().user(),
                readPassword(plan.passwordFile().get()));
        AtomicLanding.write(
                plan.passfile(),
                line.getBytes(StandardCharsets.UTF_8),
                PosixFilePermissions.fromString("rw-------"),
                OsUser.landing(plan.osUser(), true));
    }

    // ------------------------------------------------------------------ checks and helpers

    private Primary primary(Optional<PostgresSettings.Connection> configured) {
        if (configured.isEmpty()) {
            throw new ConfigException(
                    "postgres.primary is not configured in " + settings.file()
                            + "\nHINT: add postgres.primary: {host: ..., port: 5432, user: <replication role>, password_file: ...}");
        }
        PostgresSettings.Connection c = configured.get();
        if (!HOST.matcher(c.host()).matches()) {
            throw new ConfigException(
                    "postgres.primary.host '" + c.host() + "' is not a host name, address or socket folder");
        }
        int port = c.port();
        if (port < 1 || port > 65535) {
            throw new ConfigException("postgres.primary.port " + port + " is out of range");
        }
        if (!ROLE.matcher(c.user()).matches()) {
            throw new ConfigException("postgres.primary.user '" + c.user()
                    + "' must name the replication role (letters, digits and _ . -)");
        }
        return new Primary(c.host(), port, c.user());
    }

    /** The password: the file's content without surrounding whitespace. Never in a message. */
    private static String readPassword(Path file) {
        String password;
        try {
            password = Files.readString(file).strip();
        } catch (IOException e) {
            throw new ConfigException("cannot read postgres.primary.password_file " + file + ": "
                    + e.getClass().getSimpleName()
                    + "\nHINT: the file must be readable by the user running zpitr (root)");
        }
        if (password.isEmpty() || password.indexOf('\n') >= 0 || password.indexOf('\r') >= 0) {
            throw new ConfigException(
                    "postgres.primary.password_file " + file + " must hold the password on one line, and nothing else");
        }
        return password;
    }

    private void checkUser(String osUser) throws IOException {
        try {
            FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(osUser);
        } catch (UserPrincipalNotFoundException e) {
            throw new ConfigException("postgres.os_user '" + osUser + "' is not a user on this machine");
        }
        if (!isRoot() && !osUser.equals(System.getProperty("user.name"))) {
            throw new ConfigException("standby init runs pg_basebackup as postgres.os_user '" + osUser
                    + "' and hands it the data directory\nHINT: run it as root, or as " + osUser);
        }
    }

    private static Path safePath(String what, Path p) {
        if (!SAFE_PATH.matcher(p.toString()).matches()) {
            throw ZpitrError.SETUP_INVALID.exception(
                    what + " '" + p + "' must be an absolute path of letters, digits and / _ . + @ % , : -");
        }
        return p;
    }

    private static void requireEmptyOrMissing(String what, Path dir, String hint) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw ZpitrError.SETUP_INVALID.exception(what + " " + dir + " exists and is not a folder\nHINT: " + hint);
        }
        List<String> entries = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                entries.add(p.getFileName().toString());
            }
        }
        if (!entries.isEmpty()) {
            entries.sort(null);
            throw ZpitrError.SETUP_INVALID.exception(what + " " + dir + " is not empty (" + entries.size() + " entr"
                    + (entries.size() == 1 ? "y" : "ies") + ": "
                    + String.join(", ", entries.subList(0, Math.min(5, entries.size())))
                    + (entries.size() > 5 ? ", ..." : "")
                    + "): standby init writes only into an empty folder and changed nothing"
                    + "\nHINT: " + hint);
        }
    }

    private TablespaceMapping tablespace(String mapping, Path dataDir) throws IOException {
        int eq = mapping.indexOf('=');
        if (eq < 0 || eq != mapping.lastIndexOf('=')) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    "--tablespace-mapping '" + mapping + "' must be PRIMARYDIR=STANDBYDIR");
        }
        Path primaryDir = safePath(
                "--tablespace-mapping", Path.of(mapping.substring(0, eq)).normalize());
        Path standbyDir = safePath(
                "--tablespace-mapping", Path.of(mapping.substring(eq + 1)).normalize());
        if (standbyDir.startsWith(dataDir)) {
            throw ZpitrError.INVALID_ARGUMENT.exception("--tablespace-mapping: " + standbyDir + " is inside PGDATA"
                    + "\nHINT: put the tablespace on its own dataset (zfs.datasets) outside PGDATA");
        }
        if (!underADataset(standbyDir)) {
            throw ZpitrError.INVALID_ARGUMENT.exception(
                    "--tablespace-mapping: " + standbyDir + " is on none of zfs.datasets: its"
                            + " snapshots would not hold the tablespace\nHINT: create a dataset for it and list it in zfs.datasets");
        }
        requireEmptyOrMissing("--tablespace-mapping " + standbyDir, standbyDir, "choose an empty folder");
        return new TablespaceMapping(primaryDir, standbyDir);
    }

    /** Whether {@code p} lies below the mountpoint of one of the configured datasets. */
    private boolean underADataset(Path p) {
        for (DatasetName d : settings.datasets()) {
            Optional<String> m = appliance.zfs().exists(d) ? appliance.zfs().get(d, "mountpoint") : Optional.empty();
            if (m.isPresent() && m.get().startsWith("/")) {
                try {
                    if (real(p).startsWith(Path.of(m.get()).toRealPath())) {
                        return true;
                    }
                } catch (IOException e) {
                    // an unmounted or missing mountpoint holds nothing
                }
            }
        }
        return false;
    }

    /** The real path of {@code p}, resolving links in the part of it that exists. */
    private static Path real(Path p) throws IOException {
        Path existing = p;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return p;
        }
        return existing.toRealPath().resolve(existing.relativize(p)).normalize();
    }

    /** Checks that os_user can reach files in {@code dir} (or, if missing, in its nearest existing parent). */
    private void requireSearchable(String osUser, Path dir) {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return;
        }
        if (!appliance
                .runner()
                .run(Command.of(asUser(osUser, List.of("test", "-x", existing.toString()))))
                .succeeded()) {
            throw ZpitrError.SETUP_INVALID.exception("postgres.os_user " + osUser + " cannot enter " + existing
                    + ": the standby's walreceiver reads its password file " + dir.resolve(PASSFILE) + " from there"
                    + "\nHINT: chgrp " + osUser + " " + existing + " && chmod g+x " + existing
                    + " (wal-fetch, also run as " + osUser + ", needs the state_dir too)");
        }
    }

    private void prepareFolder(Path dir, String osUser, List<Path> created) throws IOException {
        if (!Files.exists(dir)) {
            Path top = dir;
            while (top.getParent() != null && !Files.exists(top.getParent())) {
                top = top.getParent();
            }
            Files.createDirectories(dir);
            created.add(top);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        chown(osUser, dir);
    }

    private static void removeIfEmpty(Path top) {
        try (var walk = Files.walk(top)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
                        if (!s.iterator().hasNext()) {
                            Files.delete(p);
                        }
                    }
                }
            }
        } catch (IOException e) {
            // Left behind for the operator; the failure that got us here is the message that matters.
        }
    }

    /** A file only {@code osUser} may read: created 0600 before anything is written into it. */
    private void writePrivate(Path file, String content, String osUser) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        chown(osUser, file);
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    private void chown(String user, Path p) {
        appliance.runner().run(Command.of("chown", user + ":", p.toString())).requireSuccess();
    }

    private static List<String> asUser(String osUser, List<String> argv) {
        return OsUser.command(osUser, argv);
    }

    private static boolean isRoot() {
        return OsUser.isRoot();
    }

    /** This machine's short host name, as pg_stat_replication on the primary will show it. */
    private static String defaultApplicationName() {
        try {
            String host = InetAddress.getLocalHost().getHostName();
            int dot = host.indexOf('.');
            String name = (dot > 0 ? host.substring(0, dot) : host).replaceAll("[^A-Za-z0-9_.-]", "_");
            return name.isEmpty() ? "zpitr_standby" : name.substring(0, Math.min(63, name.length()));
        } catch (UnknownHostException e) {
            return "zpitr_standby";
        }
    }

    /**
     * The command lines that start the standby, for the report: pg_ctl when the primary kept its
     * configuration in PGDATA (so the copy has a postgresql.conf), and Debian's cluster service
     * otherwise, with the drop-in that orders it after the ZFS mounts.
     */
    public List<String> howToStart(Plan plan, int major) {
        List<String> lines = new ArrayList<>();
        String cluster = major + "-main";
        if (Files.exists(plan.dataDir().resolve("postgresql.conf"))) {
            String runAs = isRoot() && !"root".equals(plan.osUser()) ? "runuser -u " + plan.osUser() + " -- " : "";
            lines.add(runAs + plan.binDir().resolve("pg_ctl") + " start -D " + plan.dataDir()
                    + " -l /var/log/postgresql/standby.log");
            lines.add("or with systemd (Debian's postgresql@" + cluster + "):");
        } else {
            lines.add(
                    "PGDATA has no postgresql.conf (the primary keeps it elsewhere): use a cluster configuration, e.g. Debian's:");
        }
        lines.add("pg_conftool " + major + " main set data_directory " + plan.dataDir()
                + "   (max_connections and the other max_* at least the primary's)");
        lines.add("systemctl edit postgresql@" + cluster + "   ([Unit] RequiresMountsFor=" + plan.dataDir()
                + "; the zpitr package's drop-in orders every cluster after the ZFS mounts)");
        lines.add("systemctl daemon-reload && systemctl enable --now postgresql@" + cluster);
        return lines;
    }
}
