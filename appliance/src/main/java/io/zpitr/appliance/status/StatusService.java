// Gathers `zpitr status`: the standby's lag, the newest snapshot, the recoverable window, archive hosts, jobs.
package io.zpitr.appliance.status;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.config.PostgresSettings;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.daemon.DaemonLock;
import io.zpitr.appliance.daemon.JobKind;
import io.zpitr.appliance.daemon.ScheduleState;
import io.zpitr.appliance.drill.DrillRotation;
import io.zpitr.appliance.error.ZpitrException;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.postgres.PgConnections;
import io.zpitr.appliance.schedule.Schedule;
import io.zpitr.appliance.snapshot.RecoverableWindow;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.archive.HostReachability;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the appliance's state without changing it, with one exception that is the point of the
 * check: an SSH archive host that does not answer a TCP connect within
 * {@code archive.connect_timeout} is remembered as down, exactly as {@code wal-fetch} would
 * remember it, and a host that answers is forgotten as down. A host already remembered as down is
 * reported as such and not asked. Each part is read on its own; a failure becomes that part's
 * error.
 */
public final class StatusService {
    private static final String STANDBY_QUERY = """
            select pg_is_in_recovery(),
                   case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end,
                   pg_last_wal_receive_lsn(),
                   pg_last_xact_replay_timestamp(),
                   extract(epoch from now() - pg_last_xact_replay_timestamp())::float8""";
    private static final String PRIMARY_QUERY =
            "select case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end";

    private final Appliance appliance;

    public StatusService(Appliance appliance) {
        this.appliance = appliance;
    }

    public StatusReport report() {
        Settings settings = appliance.settings();
        Instant now = appliance.clock().instant();
        StatusReport.Standby standby = standby();
        StatusReport.Primary primary = primary(standby);
        return new StatusReport(
                now,
                settings.timezone(),
                standby,
                primary,
                snapshots(standby),
                archiveSources(),
                jobs(now),
                DaemonLock.runningPid(settings.stateDir()).orElse(null),
                io.zpitr.appliance.wal.RunningPrefetchers.of(settings));
    }

    private StatusReport.Standby standby() {
        try {
            Optional<Connection> c = appliance.standby().connect("zpitr");
            if (c.isEmpty()) {
                return new StatusReport.Standby(false, null, null, null, null, null, null);
            }
            try (Connection connection = c.get();
                    Statement st = connection.createStatement();
                    ResultSet rs = st.executeQuery(STANDBY_QUERY)) {
                rs.next();
                double lag = rs.getDouble(5);
                Double lagSeconds = rs.wasNull() ? null : Math.max(0, lag);
                return new StatusReport.Standby(
                        true,
                        null,
                        rs.getBoolean(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getObject(4, OffsetDateTime.class),
                        lagSeconds);
            }
        } catch (SQLException e) {
            return new StatusReport.Standby(true, firstLine(e), null, null, null, null, null);
        }
    }

    private StatusReport.Primary primary(StatusReport.Standby standby) {
        PostgresSettings.Connection p =
                appliance.settings().postgres().primary().orElse(null);
        if (p == null) {
            return new StatusReport.Primary(false, null, null, null);
        }
        try (Connection connection = PgConnections.open(p, "zpitr status");
                Statement st = connection.createStatement();
                ResultSet rs = st.executeQuery(PRIMARY_QUERY)) {
            rs.next();
            String current = rs.getString(1);
            Long lag = null;
            if (current != null && standby.replayLsn() != null) {
                lag = Math.max(
                        0,
                        Lsn.parse(current).value()
                                - Lsn.parse(standby.replayLsn()).value());
            }
            return new StatusReport.Primary(true, null, current, lag);
        } catch (SQLException e) {
            return new StatusReport.Primary(true, firstLine(e), null, null);
        }
    }

    private StatusReport.Snapshots snapshots(StatusReport.Standby standby) {
        try {
            List<SnapshotSet> sets = appliance.catalog().list();
            RecoverableWindow window = RecoverableWindow.of(sets, standby.lastReplayedCommit());
            SnapshotSet last = sets.isEmpty() ? null : sets.get(sets.size() - 1);
            return new StatusReport.Snapshots(
                    null,
                    sets.size(),
                    last == null ? null : last.id(),
                    last == null ? null : last.created(),
                    window,
                    DrillRotation.coverage(
                            sets, appliance.settings(), appliance.clock().instant()));
        } catch (RuntimeException e) {
            return new StatusReport.Snapshots(firstLine(e), 0, null, null, RecoverableWindow.of(List.of(), null), null);
        }
    }

    private List<StatusReport.ArchiveSource> archiveSources() {
        Settings.Archive archive = appliance.settings().archive();
        HostReachability reachability =
                new HostReachability(appliance.settings().stateDir(), archive.downFor(), appliance.clock());
        List<StatusReport.ArchiveSource> out = new ArrayList<>();
        for (Settings.Source s : archive.sources()) {
            if ("local".equals(s.type())) {
                String state;
                String detail;
                if (!Files.isDirectory(s.path())) {
                    state = "missing";
                    detail = "no such folder";
                } else if (!Files.isReadable(s.path()) || !Files.isExecutable(s.path())) {
                    state = "unreadable";
                    detail = "this user (" + System.getProperty("user.name") + ") cannot read it";
                } else {
                    state = "up";
                    detail = "";
                }
                out.add(new StatusReport.ArchiveSource(
                        s.name(), s.type(), s.path().toString(), state, detail, null));
            } else {
                HostReachability.Result r = reachability.check(s.host(), s.port(), archive.connectTimeout());
                String state = switch (r.status()) {
                    case UP -> "up";
                    case DOWN -> "down";
                    case REMEMBERED_DOWN -> "remembered-down";
                };
                out.add(new StatusReport.ArchiveSource(
                        s.name(), s.type(), s.host() + ":" + s.port(), state, r.reason(), r.downUntil()));
            }
        }
        return out;
    }

    private List<StatusReport.Job> jobs(Instant now) {
        ScheduleState state = null;
        String stateError = null;
        try {
            state = ScheduleState.read(appliance.settings().stateDir());
        } catch (ZpitrException e) {
            stateError = firstLine(e);
        }
        Settings.Schedules configured = appliance.settings().schedule();
        List<StatusReport.Job> jobs = new ArrayList<>();
        for (JobKind kind : JobKind.values()) {
            String text = kind.configured(configured);
            String error = null;
            Instant next = null;
            if (text != null) {
                try {
                    next = Schedule.parse(text, appliance.settings().timezone())
                            .nextAfter(now)
                            .orElse(null);
                } catch (IllegalArgumentException e) {
                    error = firstLine(e);
                }
            }
            ScheduleState.JobRun last = state == null ? null : state.job(kind).orElse(null);
            jobs.add(new StatusReport.Job(kind.wireName(), text, error, next, last, stateError));
        }
        return jobs;
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage();
        return m == null || m.isBlank()
                ? e.getClass().getSimpleName()
                : m.lines().findFirst().orElse(m);
    }
}
