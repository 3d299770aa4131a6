// `zpitr list`: what is retained and what can be restored, for auditors and scripts.
package io.zpitr.appliance.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.drill.DrillRotation;
import io.zpitr.appliance.snapshot.RecoverableWindow;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.appliance.time.TimeArgument;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Lists retained snapshot sets and the recoverable window; field names are documented in docs/list-format.md. */
@Command(
        name = "list",
        mixinStandardHelpOptions = true,
        description = {
            "Lists retained snapshot sets and the recoverable window.",
            "For each set: id, created (UTC), datasets, timeline, redo LSN, replay LSN and last replayed commit time",
            "at the snapshot, holds, why retention keeps it, space used."
        })
final class ListCommand implements Callable<Integer> {
    enum Format {
        table,
        json,
        csv
    }

    private static final DateTimeFormatter UTC =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--format", description = "table (default), json or csv.")
    Format format = Format.table;

    @Option(names = "--since", paramLabel = "T", description = "Only sets created at or after T.")
    String since;

    @Option(names = "--until", paramLabel = "T", description = "Only sets created at or before T.")
    String until;

    @Override
    public Integer call() throws Exception {
        Appliance appliance = main.appliance();
        Instant from = since == null
                ? null
                : TimeArgument.parse(since, appliance.settings().timezone()).toInstant();
        Instant to = until == null
                ? null
                : TimeArgument.parse(until, appliance.settings().timezone()).toInstant();
        List<SnapshotSet> all = appliance.catalog().list();
        RecoverableWindow window = RecoverableWindow.of(all, appliance.standby().replayTime());
        List<SnapshotSet> sets = all.stream()
                .filter(s -> from == null || !s.created().isBefore(from))
                .filter(s -> to == null || !s.created().isAfter(to))
                .toList();
        Map<String, String> keptBy = io.zpitr.appliance.retention.RetentionReasons.of(appliance, all);
        DrillRotation.Coverage drills = DrillRotation.coverage(
                all, appliance.settings(), appliance.clock().instant());
        PrintWriter out = spec.commandLine().getOut();
        switch (format) {
            case json -> json(out, sets, window, keptBy, drills);
            case csv -> csv(out, sets, keptBy, drills);
            default -> table(out, sets, window, keptBy, drills);
        }
        out.flush();
        return Main.OK;
    }

    static Map<String, Object> fields(SnapshotSet s, Map<String, String> keptBy, DrillRotation.Coverage drills) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("created", s.created().toString());
        m.put("datasets", s.snapshots().stream().map(x -> x.dataset().full()).toList());
        m.put("missing_datasets", s.missing());
        m.put("atomic", s.atomic());
        m.put("label", s.label());
        m.put("timeline", s.timeline() < 0 ? null : s.timeline());
        m.put("redo_lsn", s.redoLsn());
        m.put("replay_lsn", s.replayLsn());
        m.put(
                "replay_time",
                s.replayTime() == null ? null : s.replayTime().toInstant().toString());
        m.put("system_identifier", s.systemId());
        m.put("pg_version", s.pgVersion() == 0 ? null : s.pgVersion());
        m.put("metadata_source", s.source());
        m.put("holds", new ArrayList<>(s.holds()));
        m.put("hold_count", s.holdCount());
        m.put("used_bytes", s.usedBytes());
        m.put("retention", keptBy.get(s.id()));
        m.put("verified_at", s.verifiedAt() == null ? null : s.verifiedAt().toString());
        m.put("verified_outcome", s.verified());
        m.put("overdue", overdue(s, drills));
        return m;
    }

    private static void json(
            PrintWriter out,
            List<SnapshotSet> sets,
            RecoverableWindow window,
            Map<String, String> keptBy,
            DrillRotation.Coverage drills)
            throws Exception {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put(
                "snapshot_sets",
                sets.stream().map(s -> fields(s, keptBy, drills)).toList());
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("earliest", window.earliest() == null ? null : window.earliest().toString());
        w.put("earliest_from", window.earliestFrom());
        w.put("latest", window.latest() == null ? null : window.latest().toString());
        w.put("latest_from", window.latestFrom());
        doc.put("recoverable_window", w);
        doc.put(
                "drill_prove_within",
                drills.proveWithin().map(DrillRotation::text).orElse(null));
        out.println(
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
    }

    private static void csv(
            PrintWriter out, List<SnapshotSet> sets, Map<String, String> keptBy, DrillRotation.Coverage drills) {
        out.println(
                "id,created,datasets,atomic,timeline,redo_lsn,replay_lsn,replay_time,holds,hold_count,used_bytes,retention,verified_at,verified_outcome,overdue");
        for (SnapshotSet s : sets) {
            out.println(String.join(
                    ",",
                    s.id(),
                    s.created().toString(),
                    quote(String.join(
                            " ",
                            s.snapshots().stream().map(x -> x.dataset().full()).toList())),
                    Boolean.toString(s.atomic()),
                    s.timeline() < 0 ? "" : Long.toString(s.timeline()),
                    nz(s.redoLsn()),
                    nz(s.replayLsn()),
                    s.replayTime() == null ? "" : s.replayTime().toInstant().toString(),
                    quote(String.join(" ", s.holds())),
                    Long.toString(s.holdCount()),
                    Long.toString(s.usedBytes()),
                    quote(keptBy.getOrDefault(s.id(), "")),
                    s.verifiedAt() == null ? "" : s.verifiedAt().toString(),
                    nz(s.verified()),
                    drills.proveWithin().isEmpty() ? "" : Boolean.toString(overdue(s, drills))));
        }
    }

    private static void table(
            PrintWriter out,
            List<SnapshotSet> sets,
            RecoverableWindow window,
            Map<String, String> keptBy,
            DrillRotation.Coverage drills) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {
            "ID",
            "CREATED (UTC)",
            "TL",
            "REDO LSN",
            "REPLAY LSN",
            "LAST COMMIT (UTC)",
            "DATASETS",
            "HOLDS",
            "KEPT BY",
            "VERIFIED (UTC)",
            "USED"
        });
        for (SnapshotSet s : sets) {
            rows.add(new String[] {
                s.id(),
                UTC.format(s.created()),
                s.timeline() < 0 ? "-" : Long.toString(s.timeline()),
                dash(s.redoLsn()),
                dash(s.replayLsn()),
                s.replayTime() == null ? "-" : UTC.format(s.replayTime().toInstant()),
                s.snapshots().size()
                        + (s.missing().isEmpty() ? "" : " (" + s.missing().size() + " MISSING)")
                        + (s.atomic() ? "" : " ordered"),
                s.holds().isEmpty()
                        ? (s.holdCount() > 0 ? s.holdCount() + " hold(s)" : "-")
                        : String.join(",", s.holds()),
                keptBy.getOrDefault(s.id(), "-"),
                Boolean.TRUE.equals(overdue(s, drills))
                        ? (s.verifiedAt() == null ? "never" : verified(s)) + " OVERDUE"
                        : verified(s),
                humanBytes(s.usedBytes())
            });
        }
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                boolean right = i == r.length - 1;
                String cell = right
                        ? " ".repeat(width[i] - r[i].length()) + r[i]
                        : r[i] + " ".repeat(width[i] - r[i].length());
                line.append(cell).append(i == r.length - 1 ? "" : "  ");
            }
            out.println(line.toString().stripTrailing());
        }
        out.println();
        out.println(sets.size() + " snapshot set(s).");
        if (window.earliest() == null) {
            out.println("Recoverable window: none (no snapshot set yet).");
        } else {
            out.println("Recoverable window: " + UTC.format(window.earliest()) + " (" + window.earliestFrom() + ") to "
                    + UTC.format(window.latest()) + " (" + window.latestFrom() + ").");
        }
        if (drills.proveWithin().isPresent()) {
            out.println("Drills: " + drills.summary() + ".");
        }
    }

    /** Whether the set is overdue for a drill ({@code drill.prove_within}); null when no period is configured. */
    static Boolean overdue(SnapshotSet s, DrillRotation.Coverage drills) {
        return drills.proveWithin().isEmpty() ? null : drills.overdue().contains(s.id());
    }

    /** When a drill last restored the set and how it came out: "2026-11-20 05:03:11Z passed", or "-". */
    static String verified(SnapshotSet s) {
        if (s.verifiedAt() == null) {
            return "-";
        }
        return UTC.format(s.verifiedAt()) + " "
                + (s.verified() == null ? "?" : s.verified().replace('_', ' '));
    }

    static String humanBytes(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format("%.1f %s", v, units[u]);
    }

    private static String dash(String s) {
        return s == null ? "-" : s;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
