// Reads zpitr's snapshot sets back from the pool in one zfs call: the pool is the catalog.
package io.zpitr.appliance.snapshot;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.error.ZpitrException;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.SnapshotName;
import io.zpitr.zfs.Zfs;
import io.zpitr.zfs.ZfsEntry;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Lists snapshot sets: every snapshot of a configured dataset whose name starts with the
 * configured prefix and which carries {@link SnapshotProperties#FORMAT}, grouped by name. One
 * {@code zfs} process per pool, whatever the number of snapshots.
 */
public final class SnapshotCatalog {
    private final Zfs zfs;
    private final List<DatasetName> datasets;
    private final String prefix;

    public SnapshotCatalog(Zfs zfs, List<DatasetName> datasets, String prefix) {
        if (datasets.isEmpty()) {
            throw new ConfigException("zfs.datasets is empty: there is nothing to snapshot or list"
                    + "\nHINT: list the standby's datasets in the config, the one holding PGDATA first");
        }
        this.zfs = zfs;
        this.datasets = List.copyOf(datasets);
        this.prefix = prefix;
    }

    /** All sets, oldest first. */
    public List<SnapshotSet> list() {
        Map<String, DatasetName> roots = new LinkedHashMap<>();
        for (DatasetName d : datasets) {
            roots.merge(d.pool(), d, (a, b) -> a.commonAncestor(b).orElse(a));
        }
        Map<String, List<ZfsEntry>> byId = new LinkedHashMap<>();
        for (DatasetName root : roots.values()) {
            for (ZfsEntry e : zfs.listSnapshots(root, true, SnapshotProperties.LISTED)) {
                SnapshotName name = SnapshotName.parse(e.name());
                if (datasets.contains(name.dataset())
                        && name.shortName().startsWith(prefix + "-")
                        && e.property(SnapshotProperties.FORMAT).isPresent()) {
                    byId.computeIfAbsent(name.shortName(), k -> new ArrayList<>())
                            .add(e);
                }
            }
        }
        List<SnapshotSet> sets = new ArrayList<>();
        byId.forEach((id, entries) -> sets.add(toSet(id, entries)));
        sets.sort(Comparator.comparing(SnapshotSet::created).thenComparing(SnapshotSet::id));
        return sets;
    }

    /** The set with this id. */
    public Optional<SnapshotSet> find(String id) {
        return list().stream().filter(s -> s.id().equals(id)).findFirst();
    }

    private SnapshotSet toSet(String id, List<ZfsEntry> entries) {
        Map<DatasetName, ZfsEntry> byDataset = new LinkedHashMap<>();
        for (ZfsEntry e : entries) {
            byDataset.put(SnapshotName.parse(e.name()).dataset(), e);
        }
        List<SnapshotName> snapshots = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (DatasetName d : datasets) {
            if (byDataset.containsKey(d)) {
                snapshots.add(d.snapshot(id));
            } else {
                missing.add(d.full());
            }
        }
        // The pg_control dataset's snapshot carries the authoritative metadata; fall back to any.
        ZfsEntry meta = byDataset.getOrDefault(datasets.get(0), entries.get(0));
        TreeSet<String> holds = new TreeSet<>();
        long holdCount = 0;
        long used = 0;
        for (ZfsEntry e : entries) {
            e.property(SnapshotProperties.HOLDS).ifPresent(h -> {
                for (String t : h.split(",")) {
                    if (!t.isBlank()) {
                        holds.add(t);
                    }
                }
            });
            holdCount = Math.max(holdCount, e.longProperty("userrefs"));
            used += e.longProperty("used");
        }
        return new SnapshotSet(
                id,
                Instant.ofEpochSecond(meta.longProperty("creation")),
                snapshots,
                missing,
                !"ordered".equals(meta.property(SnapshotProperties.ATOMICITY).orElse("atomic")),
                meta.property(SnapshotProperties.LABEL).orElse(null),
                meta.property(SnapshotProperties.SOURCE).orElse(null),
                number(meta, SnapshotProperties.TIMELINE),
                lsn(meta, SnapshotProperties.REDO_LSN),
                lsn(meta, SnapshotProperties.REPLAY_LSN),
                meta.property(SnapshotProperties.REPLAY_TIME)
                        .map(SnapshotCatalog::time)
                        .orElse(null),
                meta.property(SnapshotProperties.SYSTEM_ID).orElse(null),
                (int) Math.max(0, number(meta, SnapshotProperties.PG_VERSION)),
                number(meta, SnapshotProperties.NEXT_XID),
                holds,
                holdCount,
                used,
                meta.property(SnapshotProperties.VERIFIED_AT)
                        .map(SnapshotCatalog::instant)
                        .orElse(null),
                meta.property(SnapshotProperties.VERIFIED_OUTCOME).orElse(null),
                meta.property(SnapshotProperties.AUDIT_HEAD).orElse(null));
    }

    /** When a drill verified the set; a damaged value reads as never (the next drill rewrites it). */
    private static Instant instant(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** A number zpitr wrote, or -1 when absent; a damaged value names the snapshot and property. */
    private static long number(ZfsEntry meta, String property) {
        Optional<String> text = meta.property(property);
        try {
            return text.map(Long::parseLong).orElse(-1L);
        } catch (NumberFormatException e) {
            throw damaged(meta, property, text.get());
        }
    }

    /** An LSN zpitr wrote (X/Y), or null when absent. */
    private static String lsn(ZfsEntry meta, String property) {
        Optional<String> text = meta.property(property);
        if (text.isPresent() && !Lsn.isLsn(text.get())) {
            throw damaged(meta, property, text.get());
        }
        return text.orElse(null);
    }

    private static ZpitrException damaged(ZfsEntry meta, String property, String value) {
        return ZpitrError.STATE_DAMAGED.exception(
                "snapshot " + meta.name() + ": property " + property + " is damaged ('"
                        + value + "')\nHINT: zfs get " + property + " " + meta.name()
                        + " shows it; it was written by zpitr snapshot"
                        + " and is read by list and restore");
    }

    private static OffsetDateTime time(String text) {
        try {
            return OffsetDateTime.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
