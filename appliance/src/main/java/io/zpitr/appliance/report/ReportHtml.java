// Renders the auditor's report as one self-contained HTML page: inline CSS, an inline SVG timeline, the tables behind
// it.
package io.zpitr.appliance.report;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Nothing is fetched when the page opens (no script, font, image or style sheet from elsewhere),
 * so it can be attached to a ticket and read offline years later. Every text from the pool, the
 * audit log or the configuration is escaped. Elements a reader (or a test) looks for carry ids:
 * {@code timeline}, {@code window-band}, {@code gap-N}, {@code set-ID}, {@code hold-ID},
 * {@code drill-N}, {@code sets-table}, {@code holds-table}, {@code drills-table},
 * {@code hosts-table}, {@code audit-verification}, {@code audit-head}, {@code audit-anchor}, {@code generated},
 * {@code host}, {@code config-digest}, {@code summary-overdue}; a set overdue for a drill carries
 * {@code <b class="overdue">} in its row.
 */
public final class ReportHtml {
    private static final DateTimeFormatter UTC =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);
    /** Retention classes and their colours in the timeline (colour-blind-safe Tableau 10). */
    static final Map<String, String> CLASS_COLOURS = new java.util.LinkedHashMap<>();

    static {
        CLASS_COLOURS.put("keep_within", "#4e79a7");
        CLASS_COLOURS.put("hourly", "#59a14f");
        CLASS_COLOURS.put("daily", "#f28e2b");
        CLASS_COLOURS.put("weekly", "#b07aa1");
        CLASS_COLOURS.put("monthly", "#76b7b2");
        CLASS_COLOURS.put("yearly", "#edc948");
        CLASS_COLOURS.put("none", "#9c9c9c");
    }

    private static final int LEFT = 70;
    private static final int WIDTH = 900;
    private static final String CSS = """
            body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2330;margin:24px auto;max-width:1080px;padding:0 16px}
            h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}
            dl#meta{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:8px 0 0;color:#4a5262}dl#meta dt{font-weight:600}
            dl#meta dd{margin:0}code{font:12px ui-monospace,'DejaVu Sans Mono',monospace;word-break:break-all}
            .summary{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}.card{border:1px solid #d8dde6;border-radius:6px;padding:8px 12px;min-width:180px}
            .card b{display:block;font-size:12px;color:#4a5262;font-weight:600}.ok{color:#1a7f37}.bad{color:#c62828}.na{color:#8a6d00}
            table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e9ef;vertical-align:top}
            th{background:#f3f5f8;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
            svg{width:100%;height:auto;border:1px solid #d8dde6;border-radius:6px;background:#fff}
            svg text{font:11px system-ui,sans-serif;fill:#4a5262}.empty{color:#6b7280;font-style:italic}
            b.overdue{color:#c62828;font-size:11px;text-transform:uppercase;letter-spacing:.03em}
            """;

    private ReportHtml() {}

    public static String render(AuditorReport r) {
        StringBuilder h = new StringBuilder(32_768);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>zpitr audit report: ")
                .append(esc(r.host()))
                .append(' ')
                .append(UTC.format(r.generated()))
                .append("</title><style>")
                .append(CSS)
                .append("</style></head><body>\n");
        h.append("<header><h1>zpitr audit report</h1><dl id=\"meta\">")
                .append("<dt>Generated</dt><dd id=\"generated\">")
                .append(UTC.format(r.generated()))
                .append("</dd>")
                .append("<dt>Appliance host</dt><dd id=\"host\">")
                .append(esc(r.host()))
                .append("</dd>")
                .append("<dt>Configuration</dt><dd>")
                .append(esc(r.configFile()))
                .append(" <code id=\"config-digest\">")
                .append(esc(r.configDigest()))
                .append("</code></dd>")
                .append("<dt>zpitr</dt><dd id=\"version\">")
                .append(esc(r.version()))
                .append("</dd></dl></header>\n");
        summary(h, r);
        timeline(h, r);
        sets(h, r);
        holds(h, r);
        drills(h, r);
        hosts(h, r);
        audit(h, r);
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void summary(StringBuilder h, AuditorReport r) {
        h.append("<section class=\"summary\">");
        card(
                h,
                "summary-window",
                "Recoverable window",
                r.window().earliest() == null
                        ? "none (no snapshot set)"
                        : UTC.format(r.window().earliest()) + " to "
                                + UTC.format(r.window().latest()),
                null);
        card(
                h,
                "summary-gaps",
                "Gaps in the window",
                r.gaps().isEmpty() ? "none found" : r.gaps().size() + " gap(s)",
                r.gaps().isEmpty() ? "ok" : "bad");
        card(h, "summary-sets", "Snapshot sets", Integer.toString(r.sets().size()), null);
        var proof = r.drillCoverage();
        card(
                h,
                "summary-overdue",
                "Overdue for a drill",
                proof.proveWithin().isEmpty()
                        ? "no period set"
                        : proof.overdue().size() + " of " + proof.sets() + " (within "
                                + io.zpitr.appliance.drill.DrillRotation.text(
                                        proof.proveWithin().get()) + ")"
                                + (proof.keepsUp() ? "" : "; schedule cannot keep up"),
                proof.proveWithin().isEmpty() ? "na" : proof.overdue().isEmpty() && proof.keepsUp() ? "ok" : "bad");
        AuditorReport.DrillRow last =
                r.drills().isEmpty() ? null : r.drills().get(r.drills().size() - 1);
        card(
                h,
                "summary-drill",
                "Last drill",
                last == null ? "never" : UTC.format(last.at()) + " " + last.result(),
                last == null ? "na" : last.passed() ? "ok" : "bad");
        boolean auditOk = r.audit().intact() && r.audit().anchorProblems().isEmpty();
        card(
                h,
                "summary-audit",
                "Audit chain",
                r.audit().intact()
                        ? r.audit().anchorProblems().isEmpty() ? "intact" : "newest lines cut off"
                        : "BROKEN",
                auditOk ? "ok" : "bad");
        h.append("</section>\n");
    }

    private static void card(StringBuilder h, String id, String title, String value, String css) {
        h.append("<div class=\"card\" id=\"")
                .append(id)
                .append("\"><b>")
                .append(esc(title))
                .append("</b><span")
                .append(css == null ? "" : " class=\"" + css + "\"")
                .append('>')
                .append(esc(value))
                .append("</span></div>");
    }

    /** Sets along time coloured by retention class, a ring for a held set, drills as marks, the window as a band, gaps in red. */
    private static void timeline(StringBuilder h, AuditorReport r) {
        List<Instant> times = new ArrayList<>();
        r.sets().forEach(s -> {
            times.add(s.created());
            times.add(s.consistentAt());
        });
        r.drills().forEach(d -> times.add(d.at()));
        if (r.window().earliest() != null) {
            times.add(r.window().earliest());
            times.add(r.window().latest());
        }
        times.add(r.generated());
        Instant from = times.stream().min(Instant::compareTo).orElseThrow();
        Instant to = times.stream().max(Instant::compareTo).orElseThrow();
        if (Duration.between(from, to).compareTo(Duration.ofMinutes(10)) < 0) {
            from = to.minus(Duration.ofMinutes(10));
        }
        Duration span = Duration.between(from, to);
        from = from.minus(span.dividedBy(40));
        to = to.plus(span.dividedBy(40));
        Scale x = new Scale(from, to);
        h.append("<section><h2>Timeline</h2><svg id=\"timeline\" viewBox=\"0 0 1000 230\" role=\"img\" aria-label=\"")
                .append(
                        "snapshot sets, drills and the recoverable window along time\" xmlns=\"http://www.w3.org/2000/svg\">");
        h.append(
                "<text x=\"8\" y=\"44\">window</text><text x=\"8\" y=\"104\">sets</text><text x=\"8\" y=\"144\">drills</text>");
        if (r.window().earliest() != null) {
            int a = x.at(r.window().earliest());
            int b = Math.max(a + 2, x.at(r.window().latest()));
            h.append("<rect id=\"window-band\" x=\"")
                    .append(a)
                    .append("\" y=\"32\" width=\"")
                    .append(b - a)
                    .append("\" height=\"18\" rx=\"3\" fill=\"#9ecae1\"><title>recoverable window ")
                    .append(UTC.format(r.window().earliest()))
                    .append(" to ")
                    .append(UTC.format(r.window().latest()))
                    .append("</title></rect>");
        }
        for (int i = 0; i < r.gaps().size(); i++) {
            AuditorReport.Gap g = r.gaps().get(i);
            int a = x.at(g.from());
            int b = Math.max(a + 3, x.at(g.to()));
            h.append("<rect id=\"gap-")
                    .append(i)
                    .append("\" class=\"gap\" x=\"")
                    .append(a)
                    .append("\" y=\"30\" width=\"")
                    .append(b - a)
                    .append("\" height=\"22\" fill=\"#c62828\" fill-opacity=\"0.85\"><title>gap: ")
                    .append(esc(g.missingSegment()))
                    .append(" missing after ")
                    .append(esc(g.afterSet()))
                    .append("</title></rect>");
        }
        for (AuditorReport.SetRow s : r.sets()) {
            int cx = x.at(s.created());
            String colour = CLASS_COLOURS.getOrDefault(s.retentionClass(), CLASS_COLOURS.get("none"));
            h.append("<line x1=\"")
                    .append(cx)
                    .append("\" y1=\"52\" x2=\"")
                    .append(cx)
                    .append("\" y2=\"92\" stroke=\"#d8dde6\"/>");
            if (!s.holds().isEmpty()) {
                h.append("<circle id=\"hold-")
                        .append(esc(s.id()))
                        .append("\" class=\"hold\" cx=\"")
                        .append(cx)
                        .append(
                                "\" cy=\"100\" r=\"10\" fill=\"none\" stroke=\"#1d2330\" stroke-width=\"2\"><title>held: ")
                        .append(esc(String.join(", ", s.holds())))
                        .append("</title></circle>");
            }
            h.append("<circle id=\"set-")
                    .append(esc(s.id()))
                    .append("\" class=\"set ")
                    .append(esc(s.retentionClass()))
                    .append("\" cx=\"")
                    .append(cx)
                    .append("\" cy=\"100\" r=\"6\" fill=\"")
                    .append(colour)
                    .append("\"><title>")
                    .append(esc(s.id()))
                    .append(" (")
                    .append(esc(s.retention() == null ? "no retention policy" : s.retention()))
                    .append(")</title></circle>");
        }
        for (int i = 0; i < r.drills().size(); i++) {
            AuditorReport.DrillRow d = r.drills().get(i);
            int cx = x.at(d.at());
            String path = d.passed()
                    ? "M" + (cx - 6) + " 146 L" + cx + " 134 L" + (cx + 6) + " 146 Z"
                    : "M" + (cx - 6) + " 134 L" + cx + " 146 L" + (cx + 6) + " 134 Z";
            h.append("<path id=\"drill-")
                    .append(i)
                    .append("\" class=\"drill ")
                    .append(d.passed() ? "pass" : "fail")
                    .append("\" d=\"")
                    .append(path)
                    .append("\" fill=\"")
                    .append(d.passed() ? "#1a7f37" : "#c62828")
                    .append("\"><title>drill of ")
                    .append(esc(d.snapshot()))
                    .append(": ")
                    .append(esc(d.result()))
                    .append("</title></path>");
        }
        h.append("<line x1=\"")
                .append(LEFT)
                .append("\" y1=\"165\" x2=\"")
                .append(LEFT + WIDTH)
                .append("\" y2=\"165\" stroke=\"#4a5262\"/>");
        for (int i = 0; i <= 4; i++) {
            Instant t = from.plus(Duration.between(from, to).multipliedBy(i).dividedBy(4));
            int tx = x.at(t);
            h.append("<line x1=\"")
                    .append(tx)
                    .append("\" y1=\"165\" x2=\"")
                    .append(tx)
                    .append("\" y2=\"170\" stroke=\"#4a5262\"/>")
                    .append("<text x=\"")
                    .append(tx)
                    .append("\" y=\"183\" text-anchor=\"")
                    .append(i == 0 ? "start" : i == 4 ? "end" : "middle")
                    .append("\">")
                    .append(DAY.format(t))
                    .append("</text>");
        }
        int lx = LEFT;
        for (Map.Entry<String, String> c : CLASS_COLOURS.entrySet()) {
            h.append("<circle cx=\"")
                    .append(lx)
                    .append("\" cy=\"208\" r=\"5\" fill=\"")
                    .append(c.getValue())
                    .append("\"/>")
                    .append("<text x=\"")
                    .append(lx + 9)
                    .append("\" y=\"212\">")
                    .append(c.getKey())
                    .append("</text>");
            lx += 95;
        }
        h.append("<circle cx=\"")
                .append(lx)
                .append("\" cy=\"208\" r=\"7\" fill=\"none\" stroke=\"#1d2330\" stroke-width=\"2\"/>")
                .append("<text x=\"")
                .append(lx + 11)
                .append("\" y=\"212\">held</text>");
        h.append(
                "</svg><p class=\"empty\">UTC. Band: the recoverable window; red: a gap (archived WAL missing). Circles: snapshot"
                        + " sets by retention class; ▲ drill passed, ▼ drill failed.</p></section>\n");
    }

    /** Maps times onto the timeline's x axis. */
    private record Scale(Instant from, Instant to) {
        int at(Instant t) {
            double f = (double) Duration.between(from, t).toMillis()
                    / Math.max(1, Duration.between(from, to).toMillis());
            return LEFT + (int) Math.round(Math.max(0, Math.min(1, f)) * WIDTH);
        }
    }

    private static void sets(StringBuilder h, AuditorReport r) {
        h.append("<section><h2>Snapshot sets</h2><table id=\"sets-table\"><thead><tr><th>Set</th><th>Created</th>")
                .append("<th>Consistent from</th><th>TL</th><th>Replay LSN</th><th>Kept by</th><th>Holds</th>")
                .append("<th>Verified</th><th>Used</th></tr></thead><tbody>");
        for (AuditorReport.SetRow s : r.sets()) {
            String css = Boolean.TRUE.equals(s.overdue())
                    ? "bad"
                    : s.verified() == null ? "na" : s.verified().equals("passed") ? "ok" : "bad";
            h.append("<tr id=\"set-row-")
                    .append(esc(s.id()))
                    .append("\"><td><code>")
                    .append(esc(s.id()))
                    .append("</code></td><td>")
                    .append(UTC.format(s.created()))
                    .append("</td><td>")
                    .append(UTC.format(s.consistentAt()))
                    .append("</td><td>")
                    .append(s.timeline() < 0 ? "-" : Long.toString(s.timeline()))
                    .append("</td><td>")
                    .append(esc(dash(s.replayLsn())))
                    .append("</td><td>")
                    .append(esc(dash(s.retention())))
                    .append("</td><td>")
                    .append(esc(s.holds().isEmpty() ? "-" : String.join(", ", s.holds())))
                    .append("</td><td class=\"")
                    .append(css)
                    .append("\">")
                    .append(s.verifiedAt() == null ? "never" : UTC.format(s.verifiedAt()) + " " + esc(s.verified()))
                    .append(Boolean.TRUE.equals(s.overdue()) ? " <b class=\"overdue\">overdue</b>" : "")
                    .append("</td><td class=\"num\">")
                    .append(bytes(s.usedBytes()))
                    .append("</td></tr>");
        }
        if (r.sets().isEmpty()) {
            h.append("<tr><td colspan=\"9\" class=\"empty\">no snapshot set</td></tr>");
        }
        h.append("</tbody></table>");
        h.append("<p id=\"window-text\">Recoverable window: ")
                .append(
                        r.window().earliest() == null
                                ? "none"
                                : UTC.format(r.window().earliest()) + " ("
                                        + esc(r.window().earliestFrom()) + ") to "
                                        + UTC.format(r.window().latest()) + " ("
                                        + esc(r.window().latestFrom()) + ")")
                .append(". Gaps: ")
                .append(r.gaps().isEmpty() ? "none found" : r.gaps().size() + "")
                .append(" (")
                .append(esc(r.gapsChecked()))
                .append(").</p>");
        for (AuditorReport.Gap g : r.gaps()) {
            h.append("<p class=\"bad\">Gap ")
                    .append(UTC.format(g.from()))
                    .append(" to ")
                    .append(UTC.format(g.to()))
                    .append(": ")
                    .append(esc(g.missingSegment()))
                    .append(" is missing from every archive source (needed after ")
                    .append(esc(g.afterSet()))
                    .append(").</p>");
        }
        h.append("</section>\n");
    }

    private static void holds(StringBuilder h, AuditorReport r) {
        h.append(
                        "<section><h2>Legal holds</h2><table id=\"holds-table\"><thead><tr><th>Tag</th><th>Set</th><th>Created</th>")
                .append("</tr></thead><tbody>");
        int n = 0;
        for (AuditorReport.SetRow s : r.sets()) {
            for (String tag : s.holds()) {
                n++;
                h.append("<tr><td>")
                        .append(esc(tag))
                        .append("</td><td><code>")
                        .append(esc(s.id()))
                        .append("</code></td><td>")
                        .append(UTC.format(s.created()))
                        .append("</td></tr>");
            }
        }
        if (n == 0) {
            h.append("<tr><td colspan=\"3\" class=\"empty\">no hold</td></tr>");
        }
        h.append("</tbody></table></section>\n");
    }

    private static void drills(StringBuilder h, AuditorReport r) {
        h.append(
                        "<section><h2>Drills</h2><table id=\"drills-table\"><thead><tr><th>When</th><th>Set</th><th>Target</th>")
                .append(
                        "<th>Result</th><th>Failed checks</th><th>Took</th><th>pg_amcheck output</th></tr></thead><tbody>");
        for (int i = r.drills().size() - 1; i >= 0; i--) {
            AuditorReport.DrillRow d = r.drills().get(i);
            h.append("<tr id=\"drill-row-")
                    .append(i)
                    .append("\"><td>")
                    .append(UTC.format(d.at()))
                    .append("</td><td><code>")
                    .append(esc(dash(d.snapshot())))
                    .append("</code></td><td>")
                    .append(esc(dash(d.target())))
                    .append("</td><td class=\"")
                    .append(d.passed() ? "ok" : "bad")
                    .append("\">")
                    .append(esc(d.result()))
                    .append("</td><td>")
                    .append(esc(d.failedChecks().isEmpty() ? "-" : String.join(", ", d.failedChecks())))
                    .append("</td><td class=\"num\">")
                    .append(
                            d.durationMs() == null
                                    ? "-"
                                    : String.format(Locale.ROOT, "%.1f s", d.durationMs() / 1000.0))
                    .append("</td><td><code>")
                    .append(esc(dash(d.amcheckDigest())))
                    .append("</code></td></tr>");
        }
        if (r.drills().isEmpty()) {
            h.append("<tr><td colspan=\"7\" class=\"empty\">no drill recorded</td></tr>");
        }
        h.append("</tbody></table></section>\n");
    }

    private static void hosts(StringBuilder h, AuditorReport r) {
        h.append("<section><h2>Archive hosts</h2><table id=\"hosts-table\"><thead><tr><th>Source</th><th>Type</th>")
                .append("<th>Where</th><th>State</th><th>Detail</th></tr></thead><tbody>");
        for (AuditorReport.HostRow s : r.hosts()) {
            h.append("<tr><td>")
                    .append(esc(s.name()))
                    .append("</td><td>")
                    .append(esc(s.type()))
                    .append("</td><td><code>")
                    .append(esc(s.location()))
                    .append("</code></td><td class=\"")
                    .append("up".equals(s.state()) ? "ok" : "bad")
                    .append("\">")
                    .append(esc(s.state()))
                    .append("</td><td>")
                    .append(esc(dash(s.detail())))
                    .append("</td></tr>");
        }
        if (r.hosts().isEmpty()) {
            h.append("<tr><td colspan=\"5\" class=\"empty\">no archive source configured</td></tr>");
        }
        h.append("</tbody></table></section>\n");
    }

    private static void audit(StringBuilder h, AuditorReport r) {
        h.append("<section><h2>Audit log</h2><p id=\"audit-verification\" class=\"")
                .append(r.audit().intact() ? "ok" : "bad")
                .append("\">")
                .append(esc(r.audit().message()))
                .append("</p><p>Head (SHA-256 of the newest line): <code id=\"audit-head\">")
                .append(esc(r.audit().head() == null ? "-" : r.audit().head()))
                .append("</code></p>")
                .append("<p>Newest head anchored on a snapshot set: <code id=\"audit-anchor\">")
                .append(esc(
                        r.audit().newestAnchor() == null
                                ? "none yet"
                                : r.audit().newestAnchor()))
                .append("</code></p>");
        for (String problem : r.audit().anchorProblems()) {
            h.append("<p class=\"bad anchor-problem\">").append(esc(problem)).append("</p>");
        }
        h.append(
                        "<p class=\"empty\">Keep this hash (or this report) off the appliance: a log whose newest lines were cut")
                .append(" off no longer ends with it.</p></section>\n");
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }

    private static String bytes(long b) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
