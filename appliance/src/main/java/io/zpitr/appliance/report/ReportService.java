// Gathers the auditor's report: the catalog, the recoverable window and its gaps, drills, archive hosts, the audit
// chain.
package io.zpitr.appliance.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditLog;
import io.zpitr.appliance.audit.AuditRecord;
import io.zpitr.appliance.audit.ChainCheck;
import io.zpitr.appliance.drill.DrillRotation;
import io.zpitr.appliance.retention.RetentionReasons;
import io.zpitr.appliance.snapshot.RecoverableWindow;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.appliance.status.StatusService;
import io.zpitr.appliance.wal.ArchiveSources;
import io.zpitr.archive.SourceUnavailableException;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSource;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads only: the pool, the archive sources, the audit log. Each part is gathered on its own, as
 * {@code status} does; a part that cannot be read says so in the report rather than failing it,
 * except the snapshot catalog, without which there is nothing to report.
 */
public final class ReportService {
    /** How many segments between two sets the gap search looks up, at most: a lookup is a round trip to a host. */
    static final int GAP_WALK_LIMIT = 4096;

    private final Appliance appliance;

    public ReportService(Appliance appliance) {
        this.appliance = appliance;
    }

    public AuditorReport build() throws IOException {
        List<SnapshotSet> sets = appliance.catalog().list();
        Map<String, String> keptBy = RetentionReasons.of(appliance, sets);
        DrillRotation.Coverage coverage = DrillRotation.coverage(
                sets, appliance.settings(), appliance.clock().instant());
        List<AuditorReport.SetRow> rows = sets.stream()
                .map(s -> new AuditorReport.SetRow(
                        s.id(),
                        s.created(),
                        GapFinder.consistentAt(s),
                        s.timeline(),
                        s.replayLsn(),
                        List.copyOf(s.holds()),
                        keptBy.get(s.id()),
                        s.verifiedAt(),
                        s.verified(),
                        coverage.proveWithin().isEmpty()
                                ? null
                                : coverage.overdue().contains(s.id()),
                        s.usedBytes()))
                .toList();
        RecoverableWindow window =
                RecoverableWindow.of(sets, appliance.standby().replayTime());
        GapFinder.Result gaps = gaps(sets);
        AuditLog log = appliance.audit();
        ChainCheck chain = log.verify();
        List<AuditorReport.HostRow> hosts = new StatusService(appliance)
                .report().archiveSources().stream()
                        .map(h -> new AuditorReport.HostRow(h.name(), h.type(), h.location(), h.state(), h.detail()))
                        .toList();
        byte[] config = Files.readAllBytes(appliance.settings().file());
        String version = ReportService.class.getPackage().getImplementationVersion();
        return new AuditorReport(
                appliance.clock().instant(),
                io.zpitr.appliance.audit.Actor.current().host(),
                appliance.settings().file().toString(),
                "sha256:" + AuditRecord.sha256Hex(config),
                version == null ? "development build" : version,
                rows,
                window,
                gaps.gaps(),
                gaps.how(),
                drills(log),
                hosts,
                auditRow(log, chain, sets),
                coverage);
    }

    private static AuditorReport.AuditRow auditRow(AuditLog log, ChainCheck chain, List<SnapshotSet> sets) {
        List<String[]> anchors = new ArrayList<>();
        String newest = null;
        for (SnapshotSet s : sets) {
            if (s.auditHead() != null) {
                anchors.add(new String[] {s.id(), s.auditHead()});
                newest = s.id() + ": line " + s.auditHead().replace(":", ", sha256 ");
            }
        }
        return new AuditorReport.AuditRow(
                chain.intact(),
                chain.lines(),
                chain.head(),
                chain.message(),
                newest,
                io.zpitr.appliance.audit.AuditAnchor.check(log, anchors));
    }

    private GapFinder.Result gaps(List<SnapshotSet> sets) {
        List<WalSource> sources = ArchiveSources.open(appliance.settings());
        try {
            return new GapFinder(name -> onSomeSource(sources, name), GAP_WALK_LIMIT).find(sets);
        } catch (IllegalStateException e) {
            return new GapFinder.Result(
                    List.of(),
                    "not checked: " + e.getMessage().lines().findFirst().orElse(""));
        } finally {
            sources.forEach(WalSource::close);
        }
    }

    /** Whether some source holds the file; throws when none could be asked (then no gap can be told). */
    private static boolean onSomeSource(List<WalSource> sources, WalFileName name) {
        int unavailable = 0;
        for (WalSource s : sources) {
            try {
                if (!s.find(name).isEmpty()) {
                    return true;
                }
            } catch (SourceUnavailableException e) {
                unavailable++;
            }
        }
        if (sources.isEmpty() || unavailable == sources.size()) {
            throw new IllegalStateException("no archive source answered");
        }
        return false;
    }

    private static List<AuditorReport.DrillRow> drills(AuditLog log) {
        List<AuditorReport.DrillRow> drills = new ArrayList<>();
        for (AuditLog.Entry e : log.entries()) {
            AuditRecord r = e.record();
            if (r == null || !r.event().equals("drill")) {
                continue;
            }
            JsonNode d = r.details();
            List<String> failed = new ArrayList<>();
            d.path("checks").forEach(c -> {
                if (c.path("status").asText().equals("failed")) {
                    failed.add(c.path("name").asText());
                }
            });
            JsonNode done = d.path("timings_ms").path("done");
            drills.add(new AuditorReport.DrillRow(
                    r.time(),
                    text(d, "snapshot"),
                    text(d, "target"),
                    d.hasNonNull("result")
                            ? d.get("result").asText()
                            : r.outcome().name().toLowerCase(java.util.Locale.ROOT),
                    failed,
                    text(d, "amcheck_digest"),
                    done.isNumber() ? done.asLong() : null));
        }
        return drills;
    }

    private static String text(JsonNode d, String field) {
        return d.hasNonNull(field) ? d.get(field).asText() : null;
    }
}
