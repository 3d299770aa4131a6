package io.zpitr.appliance.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.snapshot.RecoverableWindow;
import io.zpitr.process.Command;
import io.zpitr.process.ProcessResult;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The auditor's report page in a real browser: Debian's chromium, headless, loads the file (no
 * network), its DOM carries the elements an auditor looks for, and it renders to a PNG.
 * Rendered from a month of synthetic sets, drills and a gap, so every part of the page is drawn;
 * DrillIT renders a report of a real appliance the same way.
 */
public class ReportBrowserIT {
    static final ProcessRunner RUNNER = new ProcessRunner();

    static AuditorReport month() {
        Instant now = Instant.parse("2026-11-30T06:00:00Z");
        List<AuditorReport.SetRow> sets = new ArrayList<>();
        String[] classes = {
            "monthly 2026-10",
            "weekly 2026-W45",
            "weekly 2026-W46",
            "weekly 2026-W47",
            "daily 2026-11-24",
            "daily 2026-11-25",
            "daily 2026-11-26",
            "daily 2026-11-27",
            "daily 2026-11-28",
            "keep_within 24h",
            "keep_within 24h"
        };
        for (int i = 0; i < classes.length; i++) {
            Instant created = now.minus(Duration.ofDays(29 - (long) i * 29 / classes.length))
                    .minus(Duration.ofHours(2));
            sets.add(new AuditorReport.SetRow(
                    "zpitr-" + i,
                    created,
                    created.minusSeconds(5),
                    1,
                    "0/" + (i + 3) + "000028",
                    i == 2 ? List.of("legal-2026-042") : List.of(),
                    classes[i],
                    i % 3 == 0 ? created.plus(Duration.ofHours(30)) : null,
                    i % 3 == 0 ? (i == 6 ? "failed" : "passed") : null,
                    i % 3 != 0 || i == 6,
                    1L << (20 + i % 4)));
        }
        List<AuditorReport.DrillRow> drills = new ArrayList<>();
        for (int i = 0; i < sets.size(); i += 3) {
            boolean failed = i == 6;
            drills.add(new AuditorReport.DrillRow(
                    sets.get(i).verifiedAt(),
                    sets.get(i).id(),
                    "the snapshot's consistent point",
                    failed ? "failed" : "passed",
                    failed ? List.of("amcheck") : List.of(),
                    "sha256:" + "ab".repeat(32),
                    41_000L + i));
        }
        RecoverableWindow window = new RecoverableWindow(
                sets.get(0).consistentAt(),
                "oldest snapshot zpitr-0",
                now.minusSeconds(30),
                "standby's last replayed commit");
        List<AuditorReport.Gap> gaps = List.of(new AuditorReport.Gap(
                sets.get(4).consistentAt(), sets.get(5).consistentAt(), "zpitr-4", "000000010000000000000042"));
        return new AuditorReport(
                now,
                "standby-7 <&>",
                "/etc/zpitr/zpitr.yaml",
                "sha256:" + "0f".repeat(32),
                "1.0.0",
                sets,
                window,
                gaps,
                "312 archived segment(s) looked up between 11 set(s)",
                drills,
                List.of(
                        new AuditorReport.HostRow("nfs", "local", "/mnt/arch", "up", ""),
                        new AuditorReport.HostRow(
                                "host25", "ssh", "192.0.2.25:22", "down", "connect timed out after 1 s")),
                new AuditorReport.AuditRow(
                        true,
                        214,
                        "9c".repeat(32),
                        "audit log /var/lib/zpitr/audit.jsonl: 214 lines, chain intact",
                        "zpitr-10: line 209, sha256 " + "5e".repeat(32),
                        List.of()),
                // Never drilled, or the failed one: overdue; a weekly drill runs 4 times in 30 days.
                new io.zpitr.appliance.drill.DrillRotation.Coverage(
                        java.util.Optional.of(Duration.ofDays(30)),
                        sets.size(),
                        sets.stream()
                                .filter(s -> Boolean.TRUE.equals(s.overdue()))
                                .map(AuditorReport.SetRow::id)
                                .toList(),
                        7,
                        java.util.Optional.of(4)));
    }

    /** The page as chromium's DOM after loading it, and a screenshot of it. */
    public record Rendered(String dom, Path png) {}

    public static Rendered inChromium(Path html, Path dir) throws Exception {
        Path profile = Files.createTempDirectory(dir, "chromium-profile-");
        List<String> common = List.of(
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--user-data-dir=" + profile);
        List<String> dump = new ArrayList<>(common);
        dump.addAll(List.of("--dump-dom", html.toUri().toString()));
        ProcessResult dom =
                RUNNER.run(Command.of(dump).timeout(Duration.ofMinutes(3))).requireSuccess();
        Path png = dir.resolve(html.getFileName() + ".png");
        List<String> shot = new ArrayList<>(common);
        shot.addAll(List.of(
                "--hide-scrollbars",
                "--window-size=1200,1900",
                "--screenshot=" + png,
                html.toUri().toString()));
        RUNNER.run(Command.of(shot).timeout(Duration.ofMinutes(3))).requireSuccess();
        return new Rendered(dom.stdout(), png);
    }

    static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void theReportRendersInARealBrowserWithEveryPart() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "report-it"));
        Path html = dir.resolve("report-example.html");
        String page = ReportHtml.render(month());
        Files.writeString(html, page);
        assertFalse(page.matches("(?s).*(src=|href=|@import|url\\().*"), "the page fetches nothing");

        Rendered r = inChromium(html, dir);
        assertTrue(r.dom().contains("<svg id=\"timeline\""), r.dom());
        assertTrue(r.dom().contains("id=\"window-band\""));
        assertTrue(r.dom().contains("id=\"gap-0\""));
        assertEquals(11, count(r.dom(), "<circle id=\"set-zpitr-\\d+\""), "one mark per set");
        assertTrue(r.dom().contains("id=\"hold-zpitr-2\""), "the held set is ringed");
        assertEquals(3, count(r.dom(), "class=\"drill pass\""));
        assertEquals(1, count(r.dom(), "class=\"drill fail\""));
        assertTrue(r.dom().contains("<dd id=\"host\">standby-7 &lt;&amp;&gt;</dd>"), "texts are escaped");
        assertTrue(r.dom().contains("id=\"config-digest\">sha256:0f0f"));
        assertTrue(r.dom().contains("id=\"audit-head\">9c9c"));
        assertTrue(r.dom().contains("214 lines, chain intact"));
        assertTrue(r.dom().contains("id=\"audit-anchor\">zpitr-10: line 209, sha256 5e5e"), "the newest anchored head");
        assertTrue(r.dom().contains("000000010000000000000042 is missing from every archive source"));
        for (String table : List.of("sets-table", "holds-table", "drills-table", "hosts-table")) {
            assertTrue(r.dom().contains("<table id=\"" + table + "\""), table);
        }
        assertTrue(r.dom().contains("legal-2026-042"));
        assertTrue(r.dom().contains("connect timed out after 1 s"));
        assertTrue(
                r.dom()
                        .contains(
                                "Overdue for a drill</b><span class=\"bad\">8 of 11 (within 30d); schedule cannot keep up"),
                "the overdue card");
        assertEquals(8, count(r.dom(), "<b class=\"overdue\">overdue</b>"), "one marker per overdue set");
        assertTrue(
                Files.size(r.png()) > 20_000, "a screenshot with something on it: " + Files.size(r.png()) + " bytes");
    }
}
