// Runs SQL on a restored instance for a drill: where replay stopped, and the configured drill.checks.
package io.zpitr.appliance.drill;

import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.restore.RecoveryTarget;
import io.zpitr.appliance.restore.RestoredConnection;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Values come back through psql in unaligned form, records ended by a NUL byte ({@code -0}), fields
 * separated by {@code |<US>|} and NULL written as a marker, so that a value holding {@code |}, a
 * newline or an empty text is still read as one value, and NULL is told from an empty text. (The
 * process runner trims each argument, so a separator cannot be a control character alone.)
 */
final class QueryChecks {
    static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final String FIELD = "|\u001f|";
    private static final String RECORD = "\u0000";
    private static final String NULL = "[zpitr:null]";

    private final ProcessRunner runner;
    private final RestoredConnection instance;

    QueryChecks(ProcessRunner runner, RestoredConnection instance) {
        this.runner = runner;
        this.instance = instance;
    }

    /** The server's major, from {@code server_version_num}. */
    int major() {
        return Integer.parseInt(one("postgres", "show server_version_num").value()) / 10000;
    }

    /**
     * Where replay stopped (LSN, last replayed commit time, the timeline it was on) against what the
     * set and the target promise: at least the set's redo point, and for a time target no commit
     * after the target. The restore has already waited for PostgreSQL to say it reached the target.
     */
    CheckResult target(SnapshotSet set, RecoveryTarget target, String reachedText) {
        long t0 = System.nanoTime();
        Row row = one(
                "postgres",
                "select pg_last_wal_replay_lsn(), to_char(pg_last_xact_replay_timestamp() at time zone 'UTC',"
                        + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), (select timeline_id from pg_control_checkpoint())");
        String lsn = row.fields().get(0);
        String time = row.fields().get(1);
        StringBuilder detail = new StringBuilder("replay stopped at LSN " + (lsn == null ? "-" : lsn)
                + ", last commit " + (time == null ? "-" : time) + "; timeline now "
                + row.fields().get(2)
                + " (the set's: " + set.timeline() + "); PostgreSQL: " + reachedText);
        boolean ok = true;
        if (lsn != null && set.redoLsn() != null && Lsn.parse(lsn).compareTo(Lsn.parse(set.redoLsn())) < 0) {
            ok = false;
            detail.append("; stopped before the set's redo point ").append(set.redoLsn());
        }
        if (target instanceof RecoveryTarget.Time t
                && time != null
                && Instant.parse(time).isAfter(t.at().toInstant())) {
            ok = false;
            detail.append("; a commit after the target was replayed");
        }
        return new CheckResult(
                "target", ok ? CheckResult.Status.passed : CheckResult.Status.failed, detail.toString(), ms(t0));
    }

    /** One configured check; a SQL error or a result that is not one value fails it, saying so. */
    CheckResult run(ConfiguredCheck check) {
        long t0 = System.nanoTime();
        ProcessResult r = runner.run(psql(check.database(), check.sql()).stderrLimit(8192));
        String where = "in database \"" + check.database() + "\": ";
        if (!r.succeeded()) {
            String error = r.stderr().strip().isEmpty()
                    ? "psql exited " + r.exitCode()
                    : r.stderr().strip();
            return new CheckResult(
                    check.name(),
                    CheckResult.Status.failed,
                    "SQL error " + where + error + "\nHINT: correct drill.checks '" + check.name()
                            + "' (try it with psql on the standby)",
                    ms(t0));
        }
        Row row;
        try {
            row = parse(r.stdout());
        } catch (IllegalArgumentException e) {
            return new CheckResult(check.name(), CheckResult.Status.failed, where + e.getMessage(), ms(t0));
        }
        if (row.fields().size() != 1) {
            return new CheckResult(
                    check.name(),
                    CheckResult.Status.failed,
                    where + "the query returned " + row.fields().size() + " columns; a check needs exactly one value",
                    ms(t0));
        }
        String value = row.fields().get(0);
        boolean met;
        try {
            met = check.expect().test(value);
        } catch (IllegalArgumentException e) {
            return new CheckResult(check.name(), CheckResult.Status.failed, where + e.getMessage(), ms(t0));
        }
        String shown = value == null ? "NULL" : "'" + value + "'";
        return new CheckResult(
                check.name(),
                met ? CheckResult.Status.passed : CheckResult.Status.failed,
                "returned " + shown + ", expected " + check.expect().text() + (met ? "" : ": NOT MET"),
                ms(t0));
    }

    /** One row's fields. */
    record Row(List<String> fields) {
        String value() {
            return fields.get(0);
        }
    }

    private Row one(String database, String sql) {
        ProcessResult r = runner.run(psql(database, sql)).requireSuccess();
        return parse(r.stdout());
    }

    private io.zpitr.process.Command psql(String database, String sql) {
        return instance.client(
                "psql",
                TIMEOUT,
                "-X",
                "-A",
                "-t",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-F",
                FIELD,
                "-0",
                "-P",
                "null=" + NULL,
                "-d",
                database,
                "-c",
                sql);
    }

    private static Row parse(String stdout) {
        String text = stdout.endsWith(RECORD) ? stdout.substring(0, stdout.length() - 1) : stdout;
        if (text.isEmpty()) {
            throw new IllegalArgumentException("the query returned no row; a check needs exactly one value");
        }
        if (text.contains(RECORD)) {
            throw new IllegalArgumentException(
                    "the query returned " + text.split(RECORD, -1).length + " rows; a check needs exactly one value");
        }
        List<String> fields = List.of(text.split(java.util.regex.Pattern.quote(FIELD), -1)).stream()
                .map(f -> f.equals(NULL) ? null : f)
                .collect(java.util.stream.Collectors.toList());
        return new Row(fields);
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }
}
