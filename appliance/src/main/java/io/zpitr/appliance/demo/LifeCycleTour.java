// `zpitr demo`: zpitr's whole life cycle on a throw-away sandbox, narrated like a tutorial.
package io.zpitr.appliance.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.standby.StandbySettings;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.Zfs;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a sandbox — a file-backed ZFS pool, a PostgreSQL 15 primary archiving into dated folders
 * on two archive hosts (sshd on loopback addresses), a standby on ZFS fed only by
 * {@code zpitr wal-fetch}, and a zpitr configuration — then runs the life cycle through the real
 * zpitr commands: check, snapshot, writes at known times, an archive host failing, a restore to the
 * moment between two writes, and what an auditor sees. Every claim it narrates is checked (the
 * restored rows above all); the sandbox stays running for a look around until {@link #clean()}.
 */
public final class LifeCycleTour {
    /** How the tour runs a zpitr command: in this JVM, or through the launcher as a user would. */
    @FunctionalInterface
    public interface Commands {
        Outcome run(List<String> args);
    }

    /** A zpitr command's exit code and output. */
    public record Outcome(int code, String out, String err) {}

    private static final long POOL_BYTES = 512L << 20;
    private static final String OS_USER = DemoCluster.OS_USER;
    private static final String RESTORE_NAME = "demo";
    private static final String HOLD_TAG = "legal-demo";
    private static final Duration STANDBY_LIMIT = Duration.ofMinutes(2);
    private static final Pattern CLONED = Pattern.compile("cloned .* in (\\d+) ms");

    private final SandboxLayout layout;
    private final Narration say;
    private final ProcessRunner runner = new ProcessRunner();
    private int stepNumber;

    // Built by run(), in this order.
    private Commands zpitr;
    private final List<ArchiveHost> hosts = new ArrayList<>();
    private DemoCluster primary;
    private DemoCluster standby;
    private final Map<String, String> standbySettings = new LinkedHashMap<>();
    private Path launcher;
    private long snapshotMillis;
    private long cloneMillis = -1;
    private double restoreSeconds;

    /**
     * @throws IllegalArgumentException when {@code dir} cannot hold a sandbox
     */
    public LifeCycleTour(Path dir, PrintWriter out) {
        this.layout = SandboxLayout.at(dir);
        this.say = new Narration(out);
    }

    /** The folder used when the user names none. */
    public static Path defaultDir() {
        return SandboxLayout.DEFAULT_DIR;
    }

    /**
     * Runs the tour; leaves the sandbox running.
     *
     * @param zpitrLauncher the bin/zpitr that PostgreSQL's restore_command runs (as postgres)
     * @param inProcess     runs a zpitr command in this JVM
     */
    public void run(Path zpitrLauncher, Commands inProcess) throws IOException {
        long start = System.nanoTime();
        requireRoot();
        packages();
        boolean earlierStartedZfsFuse = cleanSlate();
        Files.createDirectories(layout.dir());
        Files.setPosixFilePermissions(layout.dir(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(
                layout.marker(),
                "a zpitr demo sandbox; remove it with: zpitr demo --clean --dir " + layout.dir() + "\n");
        try {
            pool(earlierStartedZfsFuse);
            archiveHosts();
            primary();
            configuration();
            standby(zpitrLauncher, inProcess);
            check();
            String snapshotId = snapshot();
            String target = writesAfterSnapshot();
            hostFails();
            restore(target);
            restoredRows();
            auditor(snapshotId);
            relaxStandby();
            summary(start);
        } catch (IOException | RuntimeException e) {
            say.out().println();
            say.say("The demo stopped in step " + stepNumber + "; what it built stays in " + layout.dir()
                    + " for a look.");
            say.say("Remove it with: zpitr demo --clean" + dirOption());
            throw e;
        }
    }

    /** Stops everything the sandbox runs, destroys its pool, removes its folder. */
    public void clean() throws IOException {
        requireRoot();
        SandboxCleaner cleaner = new SandboxCleaner(runner, layout, say);
        if (!cleaner.present()) {
            say.say("Nothing to clean: no sandbox in " + layout.dir() + " and no pool " + layout.pool() + ".");
            return;
        }
        cleaner.clean(true);
        say.say("The sandbox is gone. Packages the demo installed stay installed.");
    }

    // ------------------------------------------------------------------ the steps

    private void packages() {
        step(
                "What the demo needs",
                "zpitr stands on ZFS, PostgreSQL and OpenSSH. As root, the demo installs what is missing, without asking.");
        Packages packages = new Packages(runner);
        List<Packages.Needed> missing = packages.missing();
        if (missing.isEmpty()) {
            say.say("zfs-fuse, postgresql-15 and openssh-server are installed.");
            return;
        }
        for (Packages.Needed n : missing) {
            say.say("Installing " + n.name() + ": " + n.why() + ".");
        }
        say.command("DEBIAN_FRONTEND=noninteractive apt-get install -y "
                + String.join(" ", missing.stream().map(Packages.Needed::name).toList()));
        if (missing.stream().anyMatch(n -> n.name().startsWith("postgresql"))) {
            say.say("(Without Debian's default cluster on port 5432: the demo makes its own clusters.)");
        }
        long t0 = System.nanoTime();
        packages.install(missing);
        say.say("Installed in " + seconds(t0) + " s.");
    }

    /** Removes an earlier sandbox; returns whether that one had started zfs-fuse (the new one inherits it). */
    private boolean cleanSlate() throws IOException {
        SandboxCleaner cleaner = new SandboxCleaner(runner, layout, say);
        if (!cleaner.present()) {
            return false;
        }
        step(
                "A clean slate",
                "An earlier sandbox is in " + layout.dir() + ": it goes first, so that the demo starts from nothing.");
        return cleaner.clean(false);
    }

    private void pool(boolean earlierStartedZfsFuse) throws IOException {
        step(
                "A throw-away ZFS pool",
                "The appliance keeps the standby's data directory on ZFS: a snapshot is instant, a restore is a clone.",
                "A 512 MB sparse file stands in for the standby VM's disk.");
        DemoPool pool = new DemoPool(runner, layout);
        boolean started = pool.ensureDaemon();
        if (started) {
            say.say(
                    "Started the zfs-fuse daemon (ZFS in user space, for machines where the kernel module cannot load).");
        }
        if (started || earlierStartedZfsFuse) {
            Files.writeString(
                    layout.startedZfsFuse(),
                    "zpitr demo started zfs-fuse; --clean stops it if no other pool uses it\n");
        }
        pool.create(POOL_BYTES);
        Zfs zfs = Zfs.detect(runner, "zfs");
        DatasetName pg = layout.dataDataset().parent().orElseThrow();
        for (DatasetName d : List.of(pg, layout.dataDataset(), layout.tablespaceDataset())) {
            zfs.create(d, Map.of(), false);
        }
        say.say("Pool " + layout.pool() + " on " + layout.poolImage() + ", mounted at " + layout.mnt()
                + "; the zfs command speaks the " + zfs.dialect() + " dialect.");
        say.say("Datasets: " + layout.dataDataset() + " for PGDATA, " + layout.tablespaceDataset()
                + " for a tablespace.");
    }

    private void archiveHosts() throws IOException {
        step(
                "Two archive hosts",
                "The primary ships each finished WAL segment to archive hosts; zpitr fetches segments back over SSH",
                "(SFTP first, scp as fallback). Two hosts, so that one can fail.");
        Path keys = layout.keys();
        Files.createDirectories(keys);
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path clientKey = keys.resolve("id_ed25519");
        Keys.generate(runner, clientKey, "zpitr-demo client");
        Set<String> taken = new HashSet<>();
        StringBuilder knownHosts = new StringBuilder();
        for (String name : List.of("host1", "host2")) {
            ArchiveHost host = new ArchiveHost(runner, name, layout.host(name));
            host.prepare(Keys.publicKeyOf(clientKey), OS_USER);
            host.start(taken);
            taken.add(host.address());
            hosts.add(host);
            knownHosts.append(host.knownHostsLine()).append('\n');
            say.say(name + ": sshd on " + host.address() + ":" + ArchiveHost.PORT + ", login root with the demo's key,"
                    + " archive in " + host.archive() + "/<yyyymmdd>/");
        }
        Files.writeString(knownHosts(), knownHosts);
        Files.setPosixFilePermissions(knownHosts(), PosixFilePermissions.fromString("rw-r--r--"));
        Files.createDirectories(layout.state().resolve("down"));
        runner.run(Command.of("chown", "-R", OS_USER + ":", layout.state().toString()))
                .requireSuccess();
        Path copy = Keys.copyFor(runner, clientKey, OS_USER, layout.postgresKeys());
        say.say("Each host has a fresh host key, pinned in " + knownHosts()
                + ": zpitr never trusts a host key blindly.");
        say.say("PostgreSQL runs wal-fetch as postgres, so postgres gets its own 0600 copy of the client key: " + copy);
    }

    private void primary() throws IOException {
        step(
                "The primary",
                "A PostgreSQL 15 primary, run as postgres on a private port and socket folder. Its archive_command",
                "copies every finished WAL segment into a dated folder on both hosts, as many sites do.");
        Path home = layout.primaryHome();
        Path tablespace = home.resolve("ts");
        Files.createDirectories(tablespace);
        runner.run(Command.of("chown", OS_USER + ":", home.toString(), tablespace.toString()))
                .requireSuccess();
        primary = new DemoCluster(
                runner,
                "primary",
                home.resolve("data"),
                home.resolve("run"),
                home.resolve("postgresql.log"),
                freePort());
        primary.initdb();
        String archiveCommand = archiveCommand();
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("wal_level", "replica");
        settings.put("archive_mode", "on");
        settings.put("archive_command", archiveCommand);
        primary.writeSettings(settings);
        primary.start(Duration.ofMinutes(1));
        primary.sql("create tablespace ts1 location '" + tablespace + "'");
        primary.sql("create table ledger (id int primary key, note text not null,"
                + " at timestamptz not null default clock_timestamp()) tablespace ts1");
        say.say("initdb in " + primary.dataDir() + "; running on port " + primary.port() + ", socket in "
                + primary.socketDir() + ".");
        say.say("archive_command = '" + archiveCommand + "'");
        say.say("Table ledger lives in tablespace ts1 (" + tablespace + ").");
    }

    /**
     * PostgreSQL runs archive_command through the shell — its contract, not ours. Each copy lands
     * under a temporary name first, so a host never serves half a segment.
     */
    private String archiveCommand() {
        StringBuilder c = new StringBuilder("d=$(date -u +%%Y%%m%%d) && mkdir -p");
        for (ArchiveHost h : hosts) {
            c.append(' ').append(h.archive()).append("/$d");
        }
        for (ArchiveHost h : hosts) {
            String into = h.archive() + "/$d/%f";
            c.append(" && cp %p ")
                    .append(into)
                    .append(".part && mv ")
                    .append(into)
                    .append(".part ")
                    .append(into);
        }
        return c.toString();
    }

    private void configuration() throws IOException {
        standby = new DemoCluster(
                runner,
                "standby",
                layout.standbyData(),
                layout.standbyHome().resolve("run"),
                layout.standbyHome().resolve("postgresql.log"),
                freePort());
        step(
                "The zpitr configuration",
                "One YAML file describes the appliance: the datasets to snapshot (PGDATA's first), the standby, the",
                "archive hosts in the order to try them, where restores go, retention and the audit log.");
        Files.writeString(layout.config(), configText());
        Files.setPosixFilePermissions(layout.config(), PosixFilePermissions.fromString("rw-r--r--"));
        say.say("Written to " + layout.config() + ":");
        say.block(Files.readString(layout.config()));
        say.say("Every zpitr command below runs with this file; to type them yourself: export ZPITR_CONFIG="
                + layout.config());
    }

    private String configText() {
        StringBuilder y = new StringBuilder();
        y.append("# zpitr demo sandbox: ").append(layout.dir()).append(" (remove with: zpitr demo --clean)\n");
        y.append("timezone: UTC\n");
        y.append("state_dir: ").append(layout.state()).append('\n');
        y.append("zfs:\n  datasets: [")
                .append(layout.dataDataset())
                .append(", ")
                .append(layout.tablespaceDataset())
                .append("]\n");
        y.append("postgres:\n");
        y.append("  bin_dir: ").append(DemoCluster.BIN).append('\n');
        y.append("  data_dir: ").append(layout.standbyData()).append('\n');
        y.append("  os_user: ").append(OS_USER).append('\n');
        y.append("  standby: {host: ")
                .append(standby.socketDir())
                .append(", port: ")
                .append(standby.port())
                .append(", user: postgres, database: postgres}\n");
        y.append("  primary: {host: ")
                .append(primary.socketDir())
                .append(", port: ")
                .append(primary.port())
                .append(", user: postgres, database: postgres}\n");
        y.append("archive:\n  sources:\n");
        for (ArchiveHost h : hosts) {
            y.append("    - name: ").append(h.name()).append('\n');
            y.append("      type: ssh\n");
            y.append("      host: ").append(h.address()).append('\n');
            y.append("      port: ").append(ArchiveHost.PORT).append('\n');
            y.append("      user: root\n");
            y.append("      path: ").append(h.archive()).append('\n');
            y.append("      identity_file: ")
                    .append(layout.postgresKeys().resolve("id_ed25519"))
                    .append('\n');
            y.append("      known_hosts: ").append(knownHosts()).append('\n');
            y.append("      transports: [sftp, scp]\n");
        }
        y.append("  connect_timeout: 1s\n  down_for: 60s\n  prefetch: 4\n");
        y.append("schedule: {snapshot: \"1 4 * * *\", prune: \"30 4 * * *\"}\n");
        y.append("retention: {keep_within: 24h, daily: 7, weekly: 4, monthly: 12}\n");
        y.append("restore:\n  dataset_root: ").append(layout.restoreRoot()).append('\n');
        y.append("  mount_root: ").append(layout.restoreMount()).append('\n');
        y.append("  port: ").append(freePort()).append('\n');
        y.append("audit:\n  log: ").append(layout.auditLog()).append('\n');
        return y.toString();
    }

    private void standby(Path zpitrLauncher, Commands inProcess) throws IOException {
        step(
                "The standby on ZFS",
                "The appliance's standby keeps PGDATA on the first dataset and the tablespace on the second. It has no",
                "replication connection: every WAL segment reaches it through zpitr wal-fetch, its restore_command.");
        launcher = launcherForPostgres(zpitrLauncher);
        zpitr = launcher.equals(zpitrLauncher) ? inProcess : viaLauncher(launcher);
        Path home = layout.standbyHome();
        Files.createDirectories(home);
        runner.run(Command.of("chown", OS_USER + ":", home.toString())).requireSuccess();
        runner.run(Command.of(
                        "chown", "-R", OS_USER + ":", layout.mnt().resolve("pg").toString()))
                .requireSuccess();
        Path wal = home.resolve("wal");
        long t0 = System.nanoTime();
        ProcessResult backup = standby.run(
                standby.asPostgres(
                        "pg_basebackup",
                        "-h",
                        primary.socketDir().toString(),
                        "-p",
                        Integer.toString(primary.port()),
                        "-U",
                        "postgres",
                        "-D",
                        layout.standbyData().toString(),
                        "-X",
                        "none",
                        "-c",
                        "fast",
                        "--waldir=" + wal,
                        "-T",
                        layout.primaryHome().resolve("ts") + "=" + layout.standbyTablespace()),
                Duration.ofMinutes(5));
        if (!backup.succeeded()) {
            throw ZpitrError.FAILED.exception("pg_basebackup from the primary failed: "
                    + backup.stderr().strip() + "\nHINT: see " + primary.log());
        }
        say.say("pg_basebackup from the primary into " + layout.standbyData() + " (" + seconds(t0)
                + " s); the tablespace went to " + layout.standbyTablespace() + ", pg_wal to " + wal
                + " (outside ZFS, as the runbook advises).");
        Path signal = layout.standbyData().resolve("standby.signal");
        Files.writeString(signal, "");
        runner.run(Command.of("chown", OS_USER + ":", signal.toString())).requireSuccess();
        standbySettings.put("restore_command", StandbySettings.restoreCommand(launcher, layout.config()));
        standbySettings.put("hot_standby", "on");
        standbySettings.put("archive_mode", "off");
        // Ask for the next segment every second instead of every five while the demo waits on it.
        standbySettings.put("wal_retrieve_retry_interval", "1s");
        standby.writeSettings(standbySettings);
        say.say("restore_command = " + StandbySettings.confValue(standbySettings.get("restore_command")));
        // A commit after the base backup: the standby replays it, so the snapshot records a last replayed commit.
        primary.sql("insert into ledger (id, note) values (1, 'opening balance')");
        String lsn = switchWal();
        t0 = System.nanoTime();
        standby.start(STANDBY_LIMIT);
        awaitStandby(lsn);
        say.say("The standby runs on port " + standby.port() + " and replayed the archive to " + lsn + " in "
                + seconds(t0) + " s; it answers read-only queries.");
        say.say("The primary wrote the ledger's first row after the base backup; the standby has it from the archive: "
                + standby.sql("select note from ledger") + ".");
    }

    private void check() {
        step(
                "zpitr check",
                "Before trusting the appliance: zfs and each dataset, the standby, each archive host over each transport",
                "with its pinned host key, spool space, clock skew against the primary.");
        Outcome r = zpitr(true, "check");
        say.block(r.out());
        requireOk(r, "check");
    }

    private String snapshot() {
        step(
                "A snapshot",
                "zpitr snapshot takes both datasets in one atomic ZFS step while the standby runs, and stores PostgreSQL's",
                "position (timeline, redo LSN, last replayed commit) on the snapshot as zpitr: properties: the pool is the catalog.");
        long t0 = System.nanoTime();
        Outcome r = zpitr(true, "snapshot", "--label", "demo");
        snapshotMillis = (System.nanoTime() - t0) / 1_000_000;
        say.block(r.out());
        requireOk(r, "snapshot");
        List<String> lines = r.out().strip().lines().toList();
        return lines.get(lines.size() - 1).strip();
    }

    /** Row A, the target time, row B, each a second apart; returns the target as psql printed it. */
    private String writesAfterSnapshot() {
        step(
                "Writes after the snapshot",
                "Two rows, two seconds apart, on the primary. The goal: get back to the moment between them.");
        primary.sql("insert into ledger (id, note) values (2, 'row A')");
        String atA = primary.sql("select at from ledger where id = 2");
        // The only fixed waits of the demo: they make three commit times differ, nothing waits on them for correctness.
        Deadline.pause(1000);
        String target = primary.sql("select clock_timestamp()");
        Deadline.pause(1000);
        primary.sql("insert into ledger (id, note) values (3, 'row B')");
        String atB = primary.sql("select at from ledger where id = 3");
        say.say("row A  committed at " + atA);
        say.say("target             " + target + "   <- the moment to restore to");
        say.say("row B  committed at " + atB);
        String lsn = switchWal();
        awaitStandby(lsn);
        say.say(
                "The primary switched to a new WAL segment; the finished one is archived on both hosts, and the standby");
        say.say("replayed it: it holds rows A and B as well (" + standby.sql("select count(*) from ledger")
                + " rows).");
        return target;
    }

    private void hostFails() {
        step(
                "An archive host fails",
                "Archive hosts go away: a reboot, a network cut. zpitr tries the hosts in order, skips one that does not answer",
                "within connect_timeout, and remembers it as down for down_for: one dead host costs one timeout, not one per segment.");
        ArchiveHost first = hosts.get(0);
        first.stop();
        say.say("Killed " + first.name() + "'s sshd: connections to " + first.address() + ":" + ArchiveHost.PORT
                + " are refused now.");
    }

    private void restore(String target) throws IOException {
        step(
                "Restore to the moment between the two rows",
                "zpitr restore picks the newest snapshot before the target, clones its datasets (O(1): nothing is copied),",
                "starts PostgreSQL on the clone with its own port, and lets it replay archived WAL up to the target,",
                "beside the live standby, which it never touches.");
        long t0 = System.nanoTime();
        Outcome r = zpitr(true, "restore", "--to-time", target, "--name", RESTORE_NAME);
        restoreSeconds = (System.nanoTime() - t0) / 1e9;
        say.block(r.out());
        requireOk(r, "restore");
        Matcher m = CLONED.matcher(r.out());
        if (m.find()) {
            cloneMillis = Long.parseLong(m.group(1));
        }
        // wal-fetch's own calls log to the restored instance's log; the restore's WAL feed, which
        // fetched most segments before PostgreSQL asked, reports the first fetch a source failed.
        List<String> fetches = new ArrayList<>(restoredLog()
                .lines()
                .filter(l -> l.contains("zpitr wal-fetch:"))
                .map(l -> l.substring(l.indexOf("zpitr wal-fetch:") + "zpitr wal-fetch: ".length()))
                .toList());
        (r.out() + "\n" + r.err())
                .lines()
                .filter(l -> l.contains("prefetch of ") && l.contains(": "))
                .map(l -> l.substring(l.indexOf("prefetch of ")))
                .map(l -> l.substring(l.indexOf(": ") + 2))
                .forEach(l -> fetches.addAll(List.of(l.split("; "))));
        String down = hosts.get(0).name() + ": ";
        List<String> shown = new ArrayList<>();
        fetches.stream().filter(l -> l.startsWith(down)).findFirst().ifPresent(shown::add);
        fetches.stream()
                .filter(l -> l.startsWith(hosts.get(1).name() + ": fetched"))
                .findFirst()
                .ifPresent(shown::add);
        if (!shown.isEmpty()) {
            say.say("From the restored instance's log and the restore's WAL feed, wal-fetch at work: "
                    + hosts.get(0).name() + " is passed over, " + hosts.get(1).name() + " serves:");
            say.block(String.join("\n", shown));
        }
        say.say("(Segments the restore had already fetched into the spool are served from there, silently.)");
    }

    private void restoredRows() throws IOException {
        step(
                "What the restored instance holds",
                "The proof: the restored instance must hold row A, committed before the target, and not row B.");
        JsonNode restored = restoredInstance();
        int port = restored.get("port").asInt();
        Path socket = layout.restoreMount().resolve(RESTORE_NAME).resolve("run");
        String query = "select id, note, at from ledger order by id";
        say.command("runuser -u postgres -- psql -h " + socket + " -p " + port + " -c '" + query + "'");
        ProcessResult rows = runner.run(Command.of(DemoCluster.asPostgres(
                        DemoCluster.BIN,
                        "psql",
                        "-X",
                        "-h",
                        socket.toString(),
                        "-p",
                        Integer.toString(port),
                        "-U",
                        "postgres",
                        "-d",
                        "postgres",
                        "-c",
                        query))
                .environment(DemoCluster.cleanEnvironment()));
        if (!rows.succeeded()) {
            throw ZpitrError.FAILED.exception(
                    "cannot query the restored instance: " + rows.stderr().strip() + "\nHINT: see "
                            + layout.restoreMount().resolve(RESTORE_NAME).resolve("postgresql.log"));
        }
        say.block(rows.stdout());
        ProcessResult ids = runner.run(Command.of(DemoCluster.asPostgres(
                                DemoCluster.BIN,
                                "psql",
                                "-X",
                                "-A",
                                "-t",
                                "-h",
                                socket.toString(),
                                "-p",
                                Integer.toString(port),
                                "-U",
                                "postgres",
                                "-d",
                                "postgres",
                                "-c",
                                "select string_agg(note, ',' order by id) from ledger"))
                        .environment(DemoCluster.cleanEnvironment()))
                .requireSuccess();
        String notes = ids.stdout().strip();
        if (!notes.equals("opening balance,row A")) {
            throw ZpitrError.FAILED.exception("the restored instance holds " + notes
                    + ", not 'opening balance,row A': the restore" + " did not stop at the target\nHINT: see "
                    + layout.restoreMount().resolve(RESTORE_NAME).resolve("postgresql.log"));
        }
        say.say("Row A is there, row B is not: replay stopped exactly at the target, and the instance was promoted.");
        say.say("The live standby, untouched, still replays the archive and holds all "
                + standby.sql("select count(*) from ledger") + " rows.");
    }

    private void auditor(String snapshotId) {
        step(
                "What an auditor sees",
                "What is retained, what can be restored, and whether the record of it is intact. A legal hold keeps a",
                "snapshot from any deletion, by hand or by retention.");
        Outcome hold = zpitr(true, "hold", snapshotId, "--tag", HOLD_TAG);
        say.block(hold.out());
        requireOk(hold, "hold");
        Outcome list = zpitr(true, "list");
        say.block(list.out());
        requireOk(list, "list");
        Outcome audit = zpitr(true, "audit");
        say.block(audit.out());
        requireOk(audit, "audit");
        Outcome verify = zpitr(true, "audit", "--verify");
        say.block(verify.out());
        requireOk(verify, "audit --verify");
    }

    private void summary(long startNanos) throws IOException {
        step("Summary", "");
        say.say(
                "Shown: an atomic snapshot of a running standby's two datasets with PostgreSQL's position on it; a standby fed");
        say.say(
                "only by zpitr wal-fetch from two archive hosts with dated folders; the first host failing and the second");
        say.say(
                "serving; a restore to a time between two commits (row A present, row B absent); a legal hold; the listing");
        say.say("with the recoverable window; an audit log whose hash chain verifies.");
        say.say(String.format(
                "Timings: snapshot %d ms; clone %s; restore %.1f s (plan, clone, replay, promote); demo %d s.",
                snapshotMillis, cloneMillis < 0 ? "?" : cloneMillis + " ms", restoreSeconds, seconds(startNanos)));
        say.say("Timings on zfs-fuse (ZFS in user space): PostgreSQL's fsyncs there are slower than on kernel ZFS.");
        say.say("");
        say.say("The sandbox keeps running for a look around:");
        JsonNode restored = restoredInstance();
        say.say("  primary:   " + primary.psqlLine());
        say.say("  standby:   " + standby.psqlLine());
        say.say("  restored:  runuser -u postgres -- " + DemoCluster.BIN.resolve("psql") + " -h "
                + layout.restoreMount().resolve(RESTORE_NAME).resolve("run") + " -p "
                + restored.get("port").asInt());
        say.say("  zpitr:     export ZPITR_CONFIG=" + layout.config() + "; " + launcher + " list");
        say.say("  zfs:       zfs list -r -t all " + layout.pool());
        say.say("Remove everything with: zpitr demo --clean" + dirOption());
    }

    private String dirOption() {
        return layout.dir().equals(SandboxLayout.DEFAULT_DIR) ? "" : " --dir " + layout.dir();
    }

    /** The demo asked for the next segment every second; a standby left running asks at PostgreSQL's own pace. */
    private void relaxStandby() throws IOException {
        standbySettings.remove("wal_retrieve_retry_interval");
        standby.writeSettings(standbySettings);
        standby.reload();
    }

    // ------------------------------------------------------------------ plumbing

    private void step(String title, String... why) {
        boolean numbered = !title.equals("Summary");
        say.step(
                numbered ? ++stepNumber + ". " + title : title,
                why.length == 1 && why[0].isEmpty() ? new String[0] : why);
    }

    /** Runs a zpitr command with the sandbox config, showing it as the user would type it. */
    private Outcome zpitr(boolean show, String... args) {
        if (show) {
            say.command("zpitr " + String.join(" ", quoted(args)));
        }
        List<String> all = new ArrayList<>(List.of("--config", layout.config().toString()));
        all.addAll(List.of(args));
        return zpitr.run(all);
    }

    private static List<String> quoted(String[] args) {
        List<String> q = new ArrayList<>();
        for (String a : args) {
            q.add(a.matches("[A-Za-z0-9_./:=@+-]+") ? a : "'" + a + "'");
        }
        return q;
    }

    private static void requireOk(Outcome r, String what) {
        if (r.code() != 0) {
            throw ZpitrError.FAILED.exception("zpitr " + what + " failed (exit " + r.code() + "): "
                    + r.err().strip());
        }
    }

    private JsonNode restoredInstance() throws IOException {
        Outcome r = zpitr(false, "restores", "--format", "json");
        requireOk(r, "restores");
        for (JsonNode n : new ObjectMapper().readTree(r.out())) {
            if (n.get("name").asText().equals(RESTORE_NAME)) {
                return n;
            }
        }
        throw ZpitrError.FAILED.exception("zpitr restores does not list the restore '" + RESTORE_NAME + "'");
    }

    private String restoredLog() {
        try {
            return Files.readString(layout.restoreMount().resolve(RESTORE_NAME).resolve("postgresql.log"));
        } catch (IOException e) {
            return "";
        }
    }

    /** Switches the primary to a new WAL segment and waits until the finished one is on every host; returns the LSN before. */
    private String switchWal() {
        String lsn = primary.sql("select pg_current_wal_lsn()");
        String segment = primary.sql("select pg_walfile_name(pg_switch_wal())");
        for (ArchiveHost h : hosts) {
            Deadline.await(
                    segment + " to reach " + h.name() + "'s archive",
                    Duration.ofMinutes(1),
                    () -> archived(h.archive(), segment),
                    primary::logTail);
        }
        return lsn;
    }

    private static boolean archived(Path archive, String segment) {
        try (DirectoryStream<Path> days = Files.newDirectoryStream(archive)) {
            for (Path day : days) {
                if (Files.exists(day.resolve(segment))) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private void awaitStandby(String lsn) {
        Deadline.await(
                "the standby to replay to " + lsn,
                STANDBY_LIMIT,
                () -> standby.trySql("select coalesce(pg_last_wal_replay_lsn() >= '" + lsn + "', false)")
                        .map("t"::equals)
                        .orElse(false),
                standby::logTail);
    }

    /**
     * PostgreSQL runs restore_command as postgres, so postgres must be able to run the launcher and
     * read the jar. A checkout under /root (mode 0700) is out of its reach: then both are copied
     * into the sandbox, and the commands run through that copy.
     */
    private Path launcherForPostgres(Path given) throws IOException {
        Path jar = given.toAbsolutePath().getParent().getParent().resolve("appliance/target/zpitr.jar");
        if (!Files.isRegularFile(jar)) {
            throw ZpitrError.FAILED.exception(
                    "the zpitr jar is missing: " + jar
                            + "\nHINT: build it (mvn -B -q -pl appliance -am package) or run the demo through bin/zpitr, which does");
        }
        Path use = given;
        if (!postgresMay("-x", given) || !postgresMay("-r", jar)) {
            Path bin = layout.app().resolve("bin");
            Path target = layout.app().resolve("appliance/target");
            Files.createDirectories(bin);
            Files.createDirectories(target);
            Files.copy(given, bin.resolve("zpitr"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(jar, target.resolve("zpitr.jar"), StandardCopyOption.REPLACE_EXISTING);
            runner.run(Command.of("chmod", "-R", "a+rX", layout.app().toString()))
                    .requireSuccess();
            use = bin.resolve("zpitr");
            say.say("postgres cannot reach " + given
                    + " (a checkout under a private folder?): the launcher and jar were copied to " + layout.app()
                    + ", and the commands below run through that copy.");
        }
        ProcessResult version = runner.run(Command.of("runuser", "-u", OS_USER, "--", use.toString(), "--version")
                .timeout(Duration.ofMinutes(2)));
        if (!version.succeeded()) {
            throw ZpitrError.FAILED.exception("postgres cannot run " + use + " (exit " + version.exitCode() + "): "
                    + version.stderr().strip()
                    + "\nHINT: PostgreSQL runs restore_command as postgres: is java on its PATH?");
        }
        return use;
    }

    private boolean postgresMay(String test, Path file) {
        return runner.run(Command.of(
                        "runuser",
                        "-u",
                        OS_USER,
                        "--",
                        "test",
                        test,
                        file.toAbsolutePath().toString()))
                .succeeded();
    }

    /** Commands through a launcher (a separate JVM each), for when the in-process launcher is out of postgres's reach. */
    private Commands viaLauncher(Path zpitrLauncher) {
        return args -> {
            List<String> argv = new ArrayList<>(List.of(zpitrLauncher.toString()));
            argv.addAll(args);
            ProcessResult r = runner.run(Command.of(argv).timeout(Duration.ofMinutes(10)));
            return new Outcome(r.exitCode(), r.stdout(), r.stderr());
        };
    }

    private Path knownHosts() {
        return layout.keys().resolve("known_hosts");
    }

    private static void requireRoot() {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw ZpitrError.FAILED.exception(
                    "zpitr demo needs root: it installs packages, creates a ZFS pool, and runs"
                            + " PostgreSQL as postgres and sshd\nHINT: run it as root (sudo bin/zpitr demo)");
        }
    }

    /** A port nothing listens on at 127.0.0.1 right now. */
    private static int freePort() {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
    }

    private static long seconds(long startNanos) {
        return Math.round((System.nanoTime() - startNanos) / 1e9);
    }
}
