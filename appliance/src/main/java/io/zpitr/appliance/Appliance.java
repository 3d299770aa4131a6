// The appliance for one configuration: builds the services the commands use, once, on demand.
package io.zpitr.appliance;

import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.config.ZpitrConfig;
import io.zpitr.appliance.postgres.PgConnections;
import io.zpitr.appliance.postgres.PgState;
import io.zpitr.appliance.postgres.PgStateProbe;
import io.zpitr.appliance.snapshot.SnapshotCatalog;
import io.zpitr.appliance.snapshot.SnapshotService;
import io.zpitr.process.ProcessRunner;
import io.zpitr.zfs.Zfs;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Optional;

/**
 * Composition root: commands ask it for services instead of building ZFS, SQL or process plumbing
 * themselves. Nothing is started until asked for.
 */
public final class Appliance {
    private final Settings settings;
    private final ProcessRunner runner;
    private final Clock clock;
    private Zfs zfs;

    public Appliance(Settings settings, ProcessRunner runner, Clock clock) {
        this.settings = settings;
        this.runner = runner;
        this.clock = clock;
    }

    public Settings settings() {
        return settings;
    }

    public Clock clock() {
        return clock;
    }

    public ProcessRunner runner() {
        return runner;
    }

    /** The ZFS driver, its dialect detected on first use. */
    public synchronized Zfs zfs() {
        if (zfs == null) {
            zfs = Zfs.detect(runner, settings.zfsCommand());
        }
        return zfs;
    }

    public SnapshotCatalog catalog() {
        return new SnapshotCatalog(zfs(), settings.datasets(), settings.snapshotPrefix());
    }

    public SnapshotService snapshots() {
        return new SnapshotService(zfs(), settings.datasets(), settings.snapshotPrefix(), settings.stateDir(), clock);
    }

    /** The retention policy from the config (missing counts are 0; keep_within defaults to 0). */
    public io.zpitr.appliance.retention.RetentionPolicy retentionPolicy() {
        ZpitrConfig.Retention r = settings.raw().retention();
        if (r == null) {
            throw new IllegalArgumentException("no retention section in " + settings.file()
                    + ": refusing to prune without a policy\nHINT: add retention: {keep_within: 24h, daily: 7, ...}");
        }
        java.time.Duration within = r.keepWithin() == null ? java.time.Duration.ZERO
                : io.zpitr.appliance.config.DurationText.parse(r.keepWithin());
        return new io.zpitr.appliance.retention.RetentionPolicy(within, n(r.hourly()), n(r.daily()), n(r.weekly()),
                n(r.monthly()), n(r.yearly()));
    }

    private static int n(Integer i) {
        return i == null ? 0 : i;
    }

    public io.zpitr.appliance.snapshot.PruneService pruning() {
        return new io.zpitr.appliance.snapshot.PruneService(zfs(), catalog(), settings.datasets(), retentionPolicy(),
                settings.timezone(), clock);
    }

    /** The audit log. */
    public io.zpitr.appliance.audit.AuditLog audit() {
        return new io.zpitr.appliance.audit.AuditLog(settings.auditLog());
    }

    /** A connection to the standby, if one is configured. */
    public Optional<Connection> standby() throws SQLException {
        Optional<ZpitrConfig.Postgres> pg = settings.postgres();
        if (pg.isEmpty() || pg.get().standby() == null) {
            return Optional.empty();
        }
        return Optional.of(PgConnections.open(pg.get().standby(), settings.file().getParent(), "zpitr"));
    }

    /**
     * PostgreSQL's position: from the running standby, or, when it does not answer, from
     * {@code pg_controldata} of {@code postgres.data_dir}.
     */
    public PgState pgState() {
        SQLException refused = null;
        try {
            Optional<Connection> c = standby();
            if (c.isPresent()) {
                try (Connection connection = c.get()) {
                    return PgStateProbe.fromServer(connection);
                }
            }
        } catch (SQLException e) {
            refused = e;
        }
        ZpitrConfig.Postgres pg = settings.postgres().orElse(null);
        if (pg == null || pg.dataDir() == null) {
            throw new IllegalStateException("cannot read PostgreSQL's position: "
                    + (refused == null ? "postgres.standby and postgres.data_dir are not configured" : refused.getMessage())
                    + "\nHINT: configure postgres.standby (a running standby) or postgres.data_dir (read with pg_controldata)");
        }
        Path folder = settings.file().getParent();
        Path binDir = folder.resolve(pg.binDir() == null ? "/usr/lib/postgresql/15/bin" : pg.binDir());
        return PgStateProbe.fromControlData(runner, binDir, folder.resolve(pg.dataDir()));
    }

    /** The standby's last replayed commit time, or null when it is not configured or does not answer. */
    public java.time.OffsetDateTime standbyReplayTime() {
        try {
            Optional<Connection> c = standby();
            if (c.isEmpty()) {
                return null;
            }
            try (Connection connection = c.get(); var st = connection.createStatement();
                 var rs = st.executeQuery("select pg_last_xact_replay_timestamp()")) {
                rs.next();
                return rs.getObject(1, java.time.OffsetDateTime.class);
            }
        } catch (SQLException e) {
            return null;
        }
    }

    /** user@host of this process, for the records it leaves. */
    public static String actor() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown-host";
        }
        return System.getProperty("user.name") + "@" + host;
    }
}
