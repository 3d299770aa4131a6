// Checks a restored instance's heap and B-tree pages: pg_amcheck from PostgreSQL 14, amcheck's functions before.
package io.zpitr.appliance.drill;

import io.zpitr.appliance.restore.RestoredConnection;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * From 14 on, {@code pg_amcheck --all --install-missing} checks every table (heap, with its TOAST)
 * and every B-tree index of every database that accepts connections; it names each damaged
 * relation as {@code heap table "db.schema.name"}. It exits 0 when all is well, 2 when it found
 * corruption, 1 when it could not check. Where {@code pg_amcheck} is not in {@code postgres.bin_dir}
 * (server-only builds), and on 11-13, the amcheck extension's functions do the same per relation:
 * {@code bt_index_check} for B-tree indexes, and from 14 {@code verify_heapam} for tables; on 11-13
 * heap checking is recorded as not available, never as passed, and so is everything where the
 * extension is not installed. The instance is a throw-away clone: installing the extension in it
 * changes nothing that matters.
 */
final class IntegrityCheck {
    static final Duration TIMEOUT = Duration.ofMinutes(60);
    /** How many finding lines go into the output and the audit log; the digest covers all of them. */
    static final int SHOWN_LINES = 20;

    /** The outcome and the digest of the whole output. */
    record Outcome(List<CheckResult> results, String digest) {}

    /**
     * From 14: every table, materialized view and TOAST table through verify_heapam, each finding
     * (or the error that stopped it, such as an invalid page header) a warning naming the relation.
     */
    private static final String HEAP_LOOP =
            " for r in select c.oid, c.relnamespace::regnamespace::text || '.' || c.relname as name from pg_class c"
                    + " join pg_am a on a.oid = c.relam where a.amname = 'heap' and c.relkind in ('r', 'm', 't')"
                    + " and c.relpersistence <> 't' loop"
                    + " begin"
                    + " declare f record; begin for f in select * from verify_heapam(r.oid) loop"
                    + " raise warning 'heap table \"%.%\", block %, offset %: %', current_database(), r.name, f.blkno, f.offnum, f.msg;"
                    + " end loop; end;"
                    + " exception when others then raise warning 'heap table \"%.%\": %', current_database(), r.name, sqlerrm; end;"
                    + " end loop;";

    private final ProcessRunner runner;
    private final RestoredConnection instance;

    IntegrityCheck(ProcessRunner runner, RestoredConnection instance) {
        this.runner = runner;
        this.instance = instance;
    }

    Outcome run(int major) {
        boolean tool = java.nio.file.Files.isExecutable(instance.binDir().resolve("pg_amcheck"));
        return major >= 14 && tool ? pgAmcheck() : amcheckFunctions(major);
    }

    private Outcome pgAmcheck() {
        long t0 = System.nanoTime();
        ProcessResult r = runner.run(instance.client("pg_amcheck", TIMEOUT, "--all", "--install-missing"));
        String output = (r.stdout() + r.stderr()).strip();
        String digest = digest(output);
        long ms = ms(t0);
        CheckResult result = switch (r.exitCode()) {
            case 0 ->
                new CheckResult(
                        "amcheck",
                        CheckResult.Status.passed,
                        "pg_amcheck found no corruption in any database (heap and B-tree)",
                        ms);
            case 2 ->
                new CheckResult(
                        "amcheck", CheckResult.Status.failed, "pg_amcheck found corruption:\n" + shown(output), ms);
            default ->
                new CheckResult(
                        "amcheck",
                        CheckResult.Status.failed,
                        "pg_amcheck could not check (exit " + r.exitCode() + "):\n" + shown(output),
                        ms);
        };
        return new Outcome(List.of(result), digest);
    }

    private Outcome amcheckFunctions(int major) {
        long t0 = System.nanoTime();
        boolean heapToo = major >= 14;
        List<CheckResult> notAvailable = new ArrayList<>();
        if (!heapToo) {
            notAvailable.add(new CheckResult(
                    "amcheck heap",
                    CheckResult.Status.not_available,
                    "heap checking (verify_heapam) needs PostgreSQL 14; this set is PostgreSQL " + major,
                    0));
        }
        String available = sql("postgres", "select count(*) from pg_available_extensions where name = 'amcheck'")
                .stdout()
                .strip();
        if (!available.equals("1")) {
            List<CheckResult> none = new ArrayList<>(List.of(new CheckResult(
                    "amcheck",
                    CheckResult.Status.not_available,
                    "neither pg_amcheck nor the amcheck extension is installed with this PostgreSQL " + major,
                    ms(t0))));
            none.addAll(notAvailable);
            return new Outcome(none, digest(""));
        }
        List<String> findings = new ArrayList<>();
        StringBuilder all = new StringBuilder();
        for (String db : sql("postgres", "select datname from pg_database where datallowconn order by 1")
                .stdoutLines()) {
            if (db.isBlank()) {
                continue;
            }
            // Each index on its own, so one damaged index is named and the others are still checked.
            ProcessResult r = sql(
                    db,
                    "create extension if not exists amcheck; do $$ declare r record; begin"
                            + " for r in select c.oid, c.relnamespace::regnamespace::text || '.' || c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid"
                            + " join pg_am a on a.oid = c.relam where a.amname = 'btree' and i.indisvalid and i.indisready"
                            + " and c.relpersistence <> 't' loop"
                            + " begin perform bt_index_check(r.oid); exception when others then"
                            + " raise warning 'btree index \"%.%\": %', current_database(), r.name, sqlerrm; end;"
                            + " end loop;" + (heapToo ? HEAP_LOOP : "") + " end $$");
            all.append(r.stdout()).append(r.stderr());
            if (!r.succeeded()) {
                findings.add("database \"" + db + "\": could not check: "
                        + r.stderr().strip());
            }
            r.stderr()
                    .lines()
                    .filter(l -> l.startsWith("WARNING:"))
                    .map(l -> l.substring("WARNING:".length()).strip())
                    .forEach(findings::add);
        }
        String what = heapToo
                ? "verify_heapam and bt_index_check found no corruption in any table or B-tree index"
                : "bt_index_check found no corruption in any B-tree index";
        CheckResult found = findings.isEmpty()
                ? new CheckResult("amcheck", CheckResult.Status.passed, what, ms(t0))
                : new CheckResult(
                        "amcheck",
                        CheckResult.Status.failed,
                        "amcheck found corruption:\n" + shown(String.join("\n", findings)),
                        ms(t0));
        List<CheckResult> results = new ArrayList<>(List.of(found));
        results.addAll(notAvailable);
        return new Outcome(results, digest(all.toString().strip()));
    }

    private ProcessResult sql(String database, String sql) {
        return runner.run(instance.psql(database, sql, TIMEOUT));
    }

    private static String shown(String output) {
        List<String> lines = output.lines().toList();
        String head = String.join("\n", lines.subList(0, Math.min(SHOWN_LINES, lines.size())));
        return lines.size() > SHOWN_LINES ? head + "\n... (" + (lines.size() - SHOWN_LINES) + " more line(s))" : head;
    }

    static String digest(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }
}
