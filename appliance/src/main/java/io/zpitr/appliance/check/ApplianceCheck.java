// The probes behind `zpitr check`: ZFS, datasets, the standby, each archive source per transport, spool, clock,
// snapshots.
package io.zpitr.appliance.check;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.postgres.PgConnections;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.archive.HostReachability;
import io.zpitr.archive.SourceUnavailableException;
import io.zpitr.archive.SshHostConfig;
import io.zpitr.archive.SshSource;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.Zfs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs every check and returns one result per line. Nothing here changes the system, except that a
 * host found answering is cleared from the down-host memory (it is up: wal-fetch may use it again).
 */
public final class ApplianceCheck {
    static final long SPOOL_WARN_BYTES = 1L << 30;
    static final Duration SKEW_WARN = Duration.ofSeconds(1);
    static final Duration SNAPSHOT_AGE_WARN = Duration.ofHours(26);

    private final Appliance appliance;
    private final Settings settings;

    public ApplianceCheck(Appliance appliance) {
        this.appliance = appliance;
        this.settings = appliance.settings();
    }

    public List<CheckResult> run() {
        List<CheckResult> results = new ArrayList<>();
        results.add(CheckResult.ok("config", settings.file().toString()));
        Zfs zfs = null;
        try {
            zfs = appliance.zfs();
            results.add(
                    CheckResult.ok("zfs", "'" + settings.zfsCommand() + "' speaks the " + zfs.dialect() + " dialect"));
        } catch (RuntimeException e) {
            results.add(CheckResult.fail(
                    "zfs",
                    firstLine(e),
                    "install ZFS (zfs-fuse or OpenZFS) and start it; zfs.command names the binary"));
        }
        if (zfs != null) {
            for (DatasetName d : settings.datasets()) {
                results.add(dataset(zfs, d));
            }
            if (settings.datasets().isEmpty()) {
                results.add(CheckResult.fail(
                        "datasets", "zfs.datasets is empty", "list the standby's datasets, PGDATA's first"));
            }
        }
        results.add(standby());
        for (Settings.Source s : settings.archive().sources()) {
            results.addAll(source(s));
        }
        if (settings.archive().sources().isEmpty()) {
            results.add(CheckResult.warn(
                    "archive", "no archive sources configured", "add archive.sources: wal-fetch has nowhere to look"));
        }
        results.add(spool());
        results.add(clockSkew());
        if (zfs != null && !settings.datasets().isEmpty()) {
            results.add(lastSnapshot());
        }
        return results;
    }

    private CheckResult dataset(Zfs zfs, DatasetName d) {
        try {
            if (!zfs.exists(d)) {
                return CheckResult.fail("dataset " + d, "does not exist", "create it, or correct zfs.datasets");
            }
            String mounted = zfs.get(d, "mounted").orElse("?");
            return mounted.equals("yes")
                    ? CheckResult.ok(
                            "dataset " + d,
                            "mounted at " + zfs.get(d, "mountpoint").orElse("?"))
                    : CheckResult.fail("dataset " + d, "not mounted", "zfs mount " + d);
        } catch (RuntimeException e) {
            return CheckResult.fail("dataset " + d, firstLine(e), null);
        }
    }

    private CheckResult standby() {
        if (settings.postgres().standby().isEmpty()) {
            return CheckResult.warn(
                    "standby",
                    "postgres.standby is not configured",
                    "snapshots then read pg_controldata only; configure the standby to record its live position");
        }
        try (Connection c = PgConnections.open(settings.postgres().standby().get(), "zpitr check");
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select pg_is_in_recovery(), pg_last_wal_replay_lsn(),"
                        + " extract(epoch from now() - pg_last_xact_replay_timestamp())")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return CheckResult.fail(
                        "standby",
                        "answers but is not in recovery (a primary?)",
                        "point postgres.standby at the standby whose data directory is on the datasets");
            }
            double lag = rs.getDouble(3);
            return CheckResult.ok(
                    "standby",
                    "in recovery, replayed to " + rs.getString(2)
                            + (rs.wasNull() ? "" : String.format(", last replayed commit %.0f s ago", lag)));
        } catch (SQLException e) {
            return CheckResult.fail(
                    "standby", firstLine(e), "is the standby running? check postgres.standby (host, port, user)");
        }
    }

    private List<CheckResult> source(Settings.Source s) {
        List<CheckResult> results = new ArrayList<>();
        if (s.type().equals("local")) {
            Path p = s.path();
            results.add(
                    Files.isDirectory(p) && Files.isReadable(p)
                            ? CheckResult.ok("archive " + s.name() + " (local)", p + " is readable")
                            : CheckResult.fail(
                                    "archive " + s.name() + " (local)",
                                    p + " is not a readable folder",
                                    "mount it (NFS?) or correct archive.sources[].path"));
            return results;
        }
        String what = "archive " + s.name() + " (" + s.host() + ":" + s.port() + ")";
        long start = System.nanoTime();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(s.host(), s.port()), (int)
                    settings.archive().connectTimeout().toMillis());
        } catch (IOException e) {
            results.add(CheckResult.fail(
                    what,
                    "no TCP connection within "
                            + settings.archive().connectTimeout().toMillis() + " ms: " + e.getMessage(),
                    "is the host up and sshd listening? wal-fetch skips it for "
                            + settings.archive().downFor().toSeconds() + " s after each failure"));
            return results;
        }
        results.add(CheckResult.ok(what, "TCP connect in " + (System.nanoTime() - start) / 1_000_000 + " ms"));
        HostReachability reachability =
                new HostReachability(settings.stateDir(), settings.archive().downFor(), Clock.systemUTC());
        reachability.markUp(s.host(), s.port());
        SshHostConfig config = new SshHostConfig(
                s.name(),
                s.host(),
                s.port(),
                s.user(),
                s.remotePath(),
                s.identityFile(),
                s.knownHosts(),
                s.transports().stream().map(SshHostConfig.Transport::parse).toList(),
                settings.archive().connectTimeout(),
                settings.archive().ioTimeout());
        try (SshSource source = new SshSource(config, reachability, appliance.runner())) {
            for (SshHostConfig.Transport t : config.transports()) {
                try {
                    results.add(CheckResult.ok(what + " " + t, source.probe(t)));
                } catch (SourceUnavailableException e) {
                    String message = e.getMessage();
                    String hint = message.lines()
                            .filter(l -> l.startsWith("HINT:"))
                            .map(l -> l.substring(5).strip())
                            .findFirst()
                            .orElse(null);
                    results.add(new CheckResult(
                            config.transports().size() > 1 && t == SshHostConfig.Transport.SFTP
                                    ? CheckResult.Level.WARN
                                    : CheckResult.Level.FAIL,
                            what + " " + t,
                            message.lines().findFirst().orElse(""),
                            hint));
                }
            }
        }
        return results;
    }

    private CheckResult spool() {
        Path spool = settings.archive().spoolDir();
        try {
            Path existing = spool;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            long free = Files.getFileStore(existing).getUsableSpace();
            String detail = spool + ": " + (free >> 20) + " MiB free";
            return free < SPOOL_WARN_BYTES
                    ? CheckResult.warn(
                            "spool",
                            detail,
                            "prefetch keeps archive.prefetch segments (16 MB each) there; free some space")
                    : CheckResult.ok("spool", detail);
        } catch (IOException | RuntimeException e) {
            return CheckResult.warn("spool", spool + ": " + firstLine(e), "check archive.spool_dir");
        }
    }

    private CheckResult clockSkew() {
        if (settings.postgres().primary().isEmpty()) {
            return CheckResult.ok("clock", "no primary configured; skew not measured");
        }
        try (Connection c = PgConnections.open(settings.postgres().primary().get(), "zpitr check");
                Statement st = c.createStatement()) {
            Instant before = Instant.now();
            ResultSet rs = st.executeQuery("select extract(epoch from clock_timestamp())");
            Instant after = Instant.now();
            rs.next();
            double primary = rs.getDouble(1);
            double local = (before.toEpochMilli() + after.toEpochMilli()) / 2000.0;
            double skew = Math.abs(primary - local);
            String detail = String.format("%.3f s against the primary", skew);
            return skew > SKEW_WARN.toMillis() / 1000.0
                    ? CheckResult.warn(
                            "clock", detail, "time targets are read in this machine's clock: run NTP/chrony on both")
                    : CheckResult.ok("clock", detail);
        } catch (SQLException e) {
            return CheckResult.warn("clock", "primary not reachable: " + firstLine(e), "check postgres.primary");
        }
    }

    private CheckResult lastSnapshot() {
        try {
            List<SnapshotSet> sets = appliance.catalog().list();
            if (sets.isEmpty()) {
                return CheckResult.warn("snapshots", "none yet", "take the first with zpitr snapshot");
            }
            SnapshotSet newest = sets.get(sets.size() - 1);
            Duration age = Duration.between(newest.created(), appliance.clock().instant());
            String detail = sets.size() + " set(s); newest " + newest.id() + ", " + age.toHours() + " h "
                    + age.toMinutesPart() + " min old";
            return age.compareTo(SNAPSHOT_AGE_WARN) > 0
                    ? CheckResult.warn("snapshots", detail, "is the daemon running? (systemctl status zpitr)")
                    : CheckResult.ok("snapshots", detail);
        } catch (RuntimeException e) {
            return CheckResult.fail("snapshots", firstLine(e), null);
        }
    }

    private static String firstLine(Throwable e) {
        return String.valueOf(e.getMessage())
                .lines()
                .findFirst()
                .orElse(e.getClass().getSimpleName());
    }
}
