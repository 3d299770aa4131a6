// `zpitr audit`: prints the audit log, or checks its hash chain with --verify.
package io.zpitr.appliance.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.zpitr.appliance.audit.AuditLog;
import io.zpitr.appliance.audit.AuditRecord;
import io.zpitr.appliance.audit.ChainCheck;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Shows auditors what zpitr did, and whether the log is still as zpitr wrote it. */
@Command(
        name = "audit",
        mixinStandardHelpOptions = true,
        description = {
            "Prints the audit log, or verifies its hash chain.",
            "One line per snapshot, prune, hold, release, restore,",
            "restore drop and failed job, with its time (UTC), who ran it (user@host; the",
            "sudo user when run through sudo), the outcome and the details. The log is",
            "audit.log in the config (default <state_dir>/audit.jsonl).",
            "",
            "--verify checks the hash chain instead: every line must parse and carry the",
            "SHA-256 of the line before it and the next sequence number, so a changed,",
            "removed or inserted line is found and named. The chain cannot show that the",
            "newest lines were removed: keep the line count and head that",
            "'--verify --format json' prints, to compare later.",
            "",
            "No log yet is not an error: both forms say 'no audit log at FILE yet'",
            "and exit 0."
        },
        footer = {
            "",
            "Exit codes: 0 printed, chain intact, or no log yet; 1 chain broken (the first",
            "bad line is named) or log unreadable; 2 usage or config error."
        })
final class AuditCommand implements Callable<Integer> {
    /** How to print. */
    enum Format {
        TABLE,
        JSON
    }

    private static final int DETAILS_WIDTH = 80;

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--format",
            paramLabel = "table|json",
            converter = FormatConverter.class,
            description = "table (default); json: the log's lines exactly as stored (JSON Lines), or with --verify one"
                    + " JSON object: file, exists, lines, intact, head, and bad_line, problem, hint when broken.")
    Format format = Format.TABLE;

    @Option(names = "--verify", description = "Check the hash chain; exit 1 naming the first bad line.")
    boolean verify;

    private final Path log;

    /** As a subcommand of {@link Main}: the log comes from the configuration. */
    AuditCommand() {
        this(null);
    }

    /** On a given log file, without a configuration (tests). */
    AuditCommand(Path log) {
        this.log = log;
    }

    @Override
    public Integer call() {
        AuditLog audit = new AuditLog(log != null ? log : main.settings().auditLog());
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (verify) {
            return verify(audit, out, err);
        }
        if (!audit.exists()) {
            (format == Format.JSON ? err : out).println("no audit log at " + audit.file() + " yet");
            return Main.OK;
        }
        List<AuditLog.Entry> entries = audit.entries();
        if (format == Format.JSON) {
            entries.forEach(e -> out.println(e.text()));
        } else {
            table(entries, out);
        }
        ChainCheck check = audit.verify();
        if (!check.intact()) {
            // Printing worked, so exit 0; --verify is the pass/fail check.
            err.println("zpitr audit: warning: " + check.message() + "\nHINT: zpitr audit --verify");
        }
        return Main.OK;
    }

    private int verify(AuditLog audit, PrintWriter out, PrintWriter err) {
        ChainCheck check = audit.verify();
        Anchors anchors = anchors(audit);
        if (format == Format.JSON) {
            ObjectNode node = json(check);
            node.put("anchors_checked", anchors.checked());
            node.put("anchors_note", anchors.note());
            node.putPOJO("anchor_problems", anchors.problems());
            out.println(node);
        } else {
            if (check.intact()) {
                out.println(check.message());
            } else {
                err.println(check.message());
                err.println("HINT: " + check.hint());
            }
            if (anchors.problems().isEmpty()) {
                if (anchors.note() != null) {
                    out.println(anchors.note());
                }
            } else {
                anchors.problems().forEach(err::println);
                err.println("HINT: compare with a copy of the log kept elsewhere; the snapshot sets' zpitr:audit_head"
                        + " properties record what the log held when each was taken");
            }
        }
        out.flush();
        return check.intact() && anchors.problems().isEmpty() ? Main.OK : Main.FAILED;
    }

    /** What the anchors on the retained snapshot sets say (docs/audit-guide.md). */
    private record Anchors(int checked, String note, List<String> problems) {}

    private Anchors anchors(AuditLog audit) {
        if (log != null) {
            return new Anchors(0, null, List.of()); // a log given without a configuration: no pool to read anchors from
        }
        List<String[]> found = new ArrayList<>();
        String newest = null;
        try {
            io.zpitr.appliance.Appliance appliance = main.appliance();
            if (appliance.settings().datasets().isEmpty()) {
                return new Anchors(0, null, List.of()); // no datasets, no snapshot sets: nothing anchored
            }
            for (io.zpitr.appliance.snapshot.SnapshotSet s : appliance.catalog().list()) {
                if (s.auditHead() != null) {
                    found.add(new String[] {s.id(), s.auditHead()});
                    newest = s.id() + " (line " + s.auditHead().split(":")[0] + ")";
                }
            }
        } catch (RuntimeException e) {
            return new Anchors(
                    0,
                    "audit anchors: not checked ("
                            + e.getMessage().lines().findFirst().orElse("") + ")",
                    List.of());
        }
        List<String> problems = io.zpitr.appliance.audit.AuditAnchor.check(audit, found);
        return new Anchors(
                found.size(),
                found.isEmpty()
                        ? "audit anchors: none on the retained snapshot sets yet"
                        : "audit anchors: " + found.size() + " on retained snapshot sets, "
                                + (problems.isEmpty() ? "all in the log" : problems.size() + " NOT in the log")
                                + "; newest " + newest,
                problems);
    }

    private static ObjectNode json(ChainCheck check) {
        ObjectNode node = new ObjectMapper().createObjectNode();
        node.put("file", check.file().toString());
        node.put("exists", check.exists());
        node.put("lines", check.lines());
        node.put("intact", check.intact());
        node.put("head", check.head());
        if (!check.intact()) {
            node.put("bad_line", check.badLine());
            node.put("problem", check.problem());
            node.put("hint", check.hint());
            node.put("message", check.message());
        }
        return node;
    }

    private static void table(List<AuditLog.Entry> entries, PrintWriter out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"LINE", "TIME (UTC)", "EVENT", "OUTCOME", "ACTOR", "DETAILS"});
        for (AuditLog.Entry e : entries) {
            AuditRecord r = e.record();
            rows.add(
                    r == null
                            ? new String[] {
                                Long.toString(e.line()), "-", "?", "?", "?", shorten("damaged: " + e.problem())
                            }
                            : new String[] {
                                Long.toString(e.line()),
                                r.timeText(),
                                r.event(),
                                r.outcome().wireName(),
                                r.actor().display(),
                                shorten(r.detailsText())
                            });
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                boolean last = i == row.length - 1;
                String cell = i == 0 ? " ".repeat(widths[0] - row[0].length()) + row[0] : row[i];
                line.append(cell);
                if (!last) {
                    line.append(" ".repeat(widths[i] - cell.length() + 2));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String shorten(String text) {
        return text.length() <= DETAILS_WIDTH ? text : text.substring(0, DETAILS_WIDTH - 3) + "...";
    }

    /** {@code table} or {@code json}, lowercase as everywhere in zpitr. */
    static final class FormatConverter implements CommandLine.ITypeConverter<Format> {
        @Override
        public Format convert(String value) {
            return switch (value) {
                case "table" -> Format.TABLE;
                case "json" -> Format.JSON;
                default ->
                    throw new CommandLine.TypeConversionException("'" + value + "' is not a format: use table or json");
            };
        }
    }
}
