// The live standby as zpitr sees it: a connection when it answers, its position, its last replayed commit.
package io.zpitr.appliance.postgres;

import io.zpitr.appliance.config.PostgresSettings;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.process.ProcessRunner;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.Optional;

/**
 * The standby of {@code postgres.standby} and {@code postgres.data_dir}: asked over SQL when it
 * runs, read with {@code pg_controldata} when it does not.
 */
public final class StandbyServer {
    private final PostgresSettings settings;
    private final ProcessRunner runner;

    public StandbyServer(PostgresSettings settings, ProcessRunner runner) {
        this.settings = settings;
        this.runner = runner;
    }

    /** A connection to the standby, if one is configured. */
    public Optional<Connection> connect(String applicationName) throws SQLException {
        if (settings.standby().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(PgConnections.open(settings.standby().get(), applicationName));
    }

    /**
     * PostgreSQL's position: from the running standby, or, when it does not answer, from
     * {@code pg_controldata} of {@code postgres.data_dir}.
     */
    public PgState position() {
        SQLException refused = null;
        try {
            Optional<Connection> c = connect("zpitr");
            if (c.isPresent()) {
                try (Connection connection = c.get()) {
                    return PgStateProbe.fromServer(connection);
                }
            }
        } catch (SQLException e) {
            refused = e;
        }
        if (settings.dataDir().isEmpty()) {
            throw ZpitrError.POSTGRES_FAILED.exception(
                    "cannot read PostgreSQL's position: "
                            + (refused == null
                                    ? "postgres.standby and postgres.data_dir are not configured"
                                    : refused.getMessage())
                            + "\nHINT: configure postgres.standby (a running standby) or postgres.data_dir (read with pg_controldata)");
        }
        return PgStateProbe.fromControlData(
                runner, settings.binDir(), settings.dataDir().get());
    }

    /** The standby's last replayed commit time, or null when it is not configured or does not answer. */
    public OffsetDateTime replayTime() {
        try {
            Optional<Connection> c = connect("zpitr");
            if (c.isEmpty()) {
                return null;
            }
            try (Connection connection = c.get();
                    Statement st = connection.createStatement();
                    ResultSet rs = st.executeQuery("select pg_last_xact_replay_timestamp()")) {
                rs.next();
                return rs.getObject(1, OffsetDateTime.class);
            }
        } catch (SQLException e) {
            return null;
        }
    }
}
