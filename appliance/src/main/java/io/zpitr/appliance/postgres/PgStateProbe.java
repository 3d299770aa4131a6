// Reads PostgreSQL's WAL position: over SQL from the running standby, else from pg_controldata.
package io.zpitr.appliance.postgres;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Asks the standby through PgJDBC ({@code pg_control_checkpoint()}, {@code pg_last_wal_replay_lsn()},
 * {@code pg_last_xact_replay_timestamp()}); when the server does not answer, reads
 * {@code pg_controldata} of the data directory instead (a stopped server's state is exactly its
 * pg_control).
 */
public final class PgStateProbe {
    private static final String QUERY = """
            select (c).timeline_id, (c).redo_lsn, (c).checkpoint_lsn,
                   case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end,
                   case when pg_is_in_recovery() then pg_last_xact_replay_timestamp() else null end,
                   (select system_identifier from pg_control_system()),
                   current_setting('server_version_num')::int,
                   txid_snapshot_xmax(txid_current_snapshot())
              from (select pg_control_checkpoint() c) s""";

    private PgStateProbe() {}

    /** Over SQL from a running server. */
    public static PgState fromServer(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement();
                ResultSet rs = st.executeQuery(QUERY)) {
            rs.next();
            return new PgState(
                    "standby",
                    rs.getLong(1),
                    Lsn.parse(rs.getString(2)),
                    Lsn.parse(rs.getString(3)),
                    Lsn.parse(rs.getString(4)),
                    rs.getObject(5, OffsetDateTime.class),
                    rs.getString(6),
                    rs.getInt(7),
                    rs.getLong(8));
        }
    }

    /** From {@code pg_controldata} of a data directory (the server may be down). */
    public static PgState fromControlData(ProcessRunner runner, Path binDir, Path dataDir) {
        ProcessResult r = runner.run(Command.of(binDir.resolve("pg_controldata").toString(), "-D", dataDir.toString())
                .environment(Map.of("LC_ALL", "C", "PATH", "/usr/bin:/bin")));
        if (!r.succeeded()) {
            throw ZpitrError.PROCESS_FAILED.exception("pg_controldata -D " + dataDir + " failed: "
                    + r.stderr().strip() + "\nHINT: check postgres.bin_dir and postgres.data_dir");
        }
        PgState state = parseControlData(r.stdout());
        try {
            // PG_VERSION names the major exactly; pg_control's format is shared by several majors.
            int major = Integer.parseInt(java.nio.file.Files.readString(dataDir.resolve("PG_VERSION"))
                    .strip());
            return new PgState(
                    state.source(),
                    state.timeline(),
                    state.redoLsn(),
                    state.checkpointLsn(),
                    state.replayLsn(),
                    null,
                    state.systemId(),
                    major * 10000,
                    state.nextXid());
        } catch (java.io.IOException | NumberFormatException e) {
            return state;
        }
    }

    static PgState parseControlData(String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : text.lines().toList()) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                fields.putIfAbsent(
                        line.substring(0, colon).strip(),
                        line.substring(colon + 1).strip());
            }
        }
        Lsn redo = Lsn.parse(require(fields, "Latest checkpoint's REDO location"));
        Lsn checkpoint = Lsn.parse(require(fields, "Latest checkpoint location"));
        Lsn minRecovery = Optional.ofNullable(fields.get("Minimum recovery ending location"))
                .map(Lsn::parse)
                .orElse(new Lsn(0));
        int controlVersion = Integer.parseInt(require(fields, "pg_control version number"));
        return new PgState(
                "pg_controldata",
                Long.parseLong(require(fields, "Latest checkpoint's TimeLineID")),
                redo,
                checkpoint,
                minRecovery.compareTo(checkpoint) > 0 ? minRecovery : checkpoint,
                null,
                require(fields, "Database system identifier"),
                majorOfControlVersion(controlVersion) * 10000,
                nextXid(fields.get("Latest checkpoint's NextXID")));
    }

    /** "0:745" (epoch:xid) or "745": a stopped server's next xid is its last checkpoint's. */
    private static long nextXid(String text) {
        if (text == null) {
            return -1;
        }
        String[] parts = text.split(":");
        try {
            long xid = Long.parseLong(parts[parts.length - 1].strip());
            long epoch = parts.length > 1 ? Long.parseLong(parts[0].strip()) : 0;
            return epoch << 32 | xid;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The major that pg_control's format version names, or 0: 1100 is 11, 1201 is 12, 1700 is 17,
     * 1800 is 18 (read from real clusters of 16, 17 and 18: 1300, 1700, 1800); 13 to 16 share 1300,
     * so the major is then unknown from pg_control alone.
     */
    static int majorOfControlVersion(int version) {
        return switch (version) {
            case 1100 -> 11;
            case 1201 -> 12;
            case 1700 -> 17;
            case 1800 -> 18;
            default -> 0;
        };
    }

    private static String require(Map<String, String> fields, String key) {
        String v = fields.get(key);
        if (v == null) {
            throw ZpitrError.PROCESS_FAILED.exception("pg_controldata did not print '" + key + "'");
        }
        return v;
    }
}
