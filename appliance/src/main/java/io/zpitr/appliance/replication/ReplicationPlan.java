// What one replication run does on one target, decided from both sides' snapshot lists (pure, no ZFS).
package io.zpitr.appliance.replication;

import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.SnapshotName;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The plan for one target.
 *
 * <p>A set is <em>complete</em> on the target when every configured dataset's landing holds the
 * set's snapshot and that snapshot carries {@code zpitr:format} (written last, after the other
 * properties, so it marks a set whose receive and properties all finished). The <em>base</em> is
 * the newest source set complete on the target; the sets to send are the source's sets newer than
 * the base, oldest first (the first one as a full stream when there is no base). Source sets older
 * than the base that the target lacks cannot be sent any more (an incremental stream only goes
 * forward) and are not.
 *
 * <p>What stands in the way is sorted out before anything is sent:
 * <ul>
 *   <li>snapshots after the base that are an unfinished copy of a source set (a run that died
 *       mid-set) are destroyed ({@link #destroySnapshots}); with no base at all, a landing holding
 *       only such copies is destroyed whole ({@link #destroyDatasets});</li>
 *   <li>anything else after the base (a snapshot the source never had, a complete set the source no
 *       longer has), or a landing that exists but shares no set with the source, means the target
 *       has <em>diverged</em>: refused ({@link #divergence}) unless {@code --force-rollback}, which
 *       rolls each landing back to the base ({@link #rollbacks}) or, with no base, destroys it.</li>
 * </ul>
 *
 * @param base             the newest set complete on both sides, if any
 * @param toSend           source sets to send, oldest first
 * @param destroySnapshots unfinished copies to destroy first
 * @param destroyDatasets  landings to destroy first (unfinished first copies; or diverged, when forced)
 * @param rollbacks        landings to roll back to the base first (diverged, forced)
 * @param divergence       why the target is refused, if it is
 */
public record ReplicationPlan(
        Optional<String> base,
        List<String> toSend,
        List<SnapshotName> destroySnapshots,
        List<DatasetName> destroyDatasets,
        List<SnapshotName> rollbacks,
        Optional<String> divergence) {

    /** One snapshot on a target landing, in creation order. */
    public record TargetSnapshot(String shortName, boolean complete) {}

    /** A landing on the target: absent, or present with its snapshots oldest first. */
    public record Landing(DatasetName name, boolean exists, List<TargetSnapshot> snapshots) {
        public static Landing absent(DatasetName name) {
            return new Landing(name, false, List.of());
        }
    }

    /**
     * Decides.
     *
     * @param sourceSets    the source's complete sets, oldest first
     * @param landings      one per configured dataset, in the configured order
     * @param forceRollback {@code --force-rollback}: roll a diverged landing back instead of refusing
     */
    public static ReplicationPlan decide(List<String> sourceSets, List<Landing> landings, boolean forceRollback) {
        Set<String> source = new LinkedHashSet<>(sourceSets);
        String base = null;
        for (String id : sourceSets) {
            if (landings.stream().allMatch(l -> l.snapshots().contains(new TargetSnapshot(id, true)))) {
                base = id;
            }
        }
        List<SnapshotName> destroySnapshots = new ArrayList<>();
        List<DatasetName> destroyDatasets = new ArrayList<>();
        List<SnapshotName> rollbacks = new ArrayList<>();
        List<String> diverged = new ArrayList<>();
        for (Landing l : landings) {
            if (!l.exists()) {
                if (base != null) {
                    // Cannot happen for a complete base; kept as a refusal rather than an assumption.
                    diverged.add(l.name() + " is missing although the base set " + base + " is complete");
                }
                continue;
            }
            int after = 0;
            if (base != null) {
                for (int i = 0; i < l.snapshots().size(); i++) {
                    if (l.snapshots().get(i).shortName().equals(base)) {
                        after = i + 1;
                    }
                }
            }
            List<TargetSnapshot> later =
                    l.snapshots().subList(after, l.snapshots().size());
            List<TargetSnapshot> foreign = later.stream()
                    .filter(s -> !source.contains(s.shortName())
                            || s.complete() && isCompleteEverywhere(s.shortName(), landings))
                    .toList();
            // A landing with no snapshot at all was not made by a receive: its files are nobody's copy.
            boolean notOurs = base == null && l.snapshots().isEmpty();
            if (foreign.isEmpty() && !notOurs) {
                if (base == null) {
                    destroyDatasets.add(l.name());
                } else {
                    later.forEach(s -> destroySnapshots.add(l.name().snapshot(s.shortName())));
                }
            } else if (forceRollback) {
                if (base == null) {
                    destroyDatasets.add(l.name());
                } else {
                    rollbacks.add(l.name().snapshot(base));
                }
            } else {
                diverged.add(
                        base == null
                                ? l.name() + " exists and shares no snapshot set with the source (it holds "
                                        + (l.snapshots().isEmpty() ? "no snapshot" : names(l.snapshots())) + ")"
                                : l.name() + " has " + names(foreign) + " after the newest common set " + base);
            }
        }
        List<String> toSend = new ArrayList<>();
        boolean past = base == null;
        for (String id : sourceSets) {
            if (past) {
                toSend.add(id);
            }
            past |= id.equals(base);
        }
        Optional<String> divergence = diverged.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", diverged));
        if (divergence.isPresent()) {
            return new ReplicationPlan(
                    Optional.ofNullable(base), List.copyOf(toSend), List.of(), List.of(), List.of(), divergence);
        }
        return new ReplicationPlan(
                Optional.ofNullable(base),
                List.copyOf(toSend),
                List.copyOf(destroySnapshots),
                List.copyOf(destroyDatasets),
                List.copyOf(rollbacks),
                Optional.empty());
    }

    private static boolean isCompleteEverywhere(String id, List<Landing> landings) {
        return landings.stream().allMatch(l -> l.snapshots().contains(new TargetSnapshot(id, true)));
    }

    private static String names(List<TargetSnapshot> snapshots) {
        List<String> n = snapshots.stream().map(TargetSnapshot::shortName).toList();
        return n.size() <= 3
                ? String.join(", ", n)
                : String.join(", ", n.subList(0, 3)) + " and " + (n.size() - 3) + " more";
    }

    /** Whether nothing needs doing. */
    public boolean upToDate() {
        return toSend.isEmpty()
                && destroySnapshots.isEmpty()
                && destroyDatasets.isEmpty()
                && rollbacks.isEmpty()
                && divergence.isEmpty();
    }
}
