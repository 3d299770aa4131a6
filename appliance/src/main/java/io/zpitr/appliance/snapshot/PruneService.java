// Applies retention to the snapshot sets: decides with the pure policy, then destroys what it may.
package io.zpitr.appliance.snapshot;

import io.zpitr.appliance.retention.RetentionCandidate;
import io.zpitr.appliance.retention.RetentionDecision;
import io.zpitr.appliance.retention.RetentionPolicy;
import io.zpitr.zfs.DatasetName;
import io.zpitr.zfs.SnapshotName;
import io.zpitr.zfs.Zfs;
import io.zpitr.zfs.ZfsEntry;
import io.zpitr.zfs.ZfsException;
import java.time.Clock;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code zpitr prune}: which sets retention keeps (and why), which it destroys. Never destroys a
 * held set, a set with restore clones, or the newest set (the policy keeps those), and re-checks at
 * destroy time: a hold or clone that appeared since the listing makes ZFS refuse, and that set is
 * then reported kept, not destroyed.
 */
public final class PruneService {
    private final Zfs zfs;
    private final SnapshotCatalog catalog;
    private final List<DatasetName> datasets;
    private final RetentionPolicy policy;
    private final ZoneId zone;
    private final Clock clock;

    public PruneService(
            Zfs zfs,
            SnapshotCatalog catalog,
            List<DatasetName> datasets,
            RetentionPolicy policy,
            ZoneId zone,
            Clock clock) {
        this.zfs = zfs;
        this.catalog = catalog;
        this.datasets = List.copyOf(datasets);
        this.policy = policy;
        this.zone = zone;
        this.clock = clock;
    }

    /** One set's fate. */
    public record Outcome(SnapshotSet set, RetentionDecision decision, boolean destroyed, String note) {}

    /** The policy's decisions for every set, newest first, without changing anything. */
    public List<Outcome> plan() {
        List<SnapshotSet> sets = catalog.list();
        Set<String> cloned = clonedSnapshots();
        Map<String, SnapshotSet> byId = new LinkedHashMap<>();
        List<RetentionCandidate> candidates = new ArrayList<>();
        for (SnapshotSet s : sets) {
            byId.put(s.id(), s);
            boolean hasClones = s.snapshots().stream().anyMatch(n -> cloned.contains(n.full()));
            candidates.add(s.retentionCandidate(hasClones));
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (RetentionDecision d : policy.decide(candidates, zone, clock)) {
            outcomes.add(new Outcome(byId.get(d.id()), d, false, null));
        }
        return outcomes;
    }

    /**
     * Destroys what the plan says to destroy, each set's snapshots in reverse dataset order (the
     * pg_control dataset's last, so a half-destroyed set is never mistaken for a whole one).
     * {@code onDestroyed} is told of each set destroyed (for the audit log).
     */
    public List<Outcome> prune(java.util.function.Consumer<Outcome> onDestroyed) {
        List<Outcome> done = new ArrayList<>();
        for (Outcome o : plan()) {
            if (o.decision().kept()) {
                done.add(o);
                continue;
            }
            List<SnapshotName> snaps = new ArrayList<>(o.set().snapshots());
            java.util.Collections.reverse(snaps);
            String refusal = null;
            for (SnapshotName s : snaps) {
                try {
                    zfs.destroy(s);
                } catch (ZfsException.SnapshotHeldException | ZfsException.DependentClonesException e) {
                    refusal = e.getMessage().lines().findFirst().orElse("");
                    break;
                } catch (ZfsException.NoSuchDatasetException e) {
                    // Gone already (another prune, an operator): nothing left to do for it.
                }
            }
            Outcome result = new Outcome(o.set(), o.decision(), refusal == null, refusal);
            if (result.destroyed()) {
                onDestroyed.accept(result);
            }
            done.add(result);
        }
        return done;
    }

    /** Snapshots that some clone was made from: one zfs call over each pool involved. */
    private Set<String> clonedSnapshots() {
        Set<String> origins = new HashSet<>();
        Set<String> pools = new HashSet<>();
        for (DatasetName d : datasets) {
            if (pools.add(d.pool())) {
                for (ZfsEntry e : zfs.list(
                        DatasetName.of(d.pool()),
                        true,
                        Set.of(Zfs.Type.FILESYSTEM, Zfs.Type.VOLUME),
                        List.of("origin"))) {
                    e.property("origin").filter(v -> v.contains("@")).ifPresent(origins::add);
                }
            }
        }
        return origins;
    }
}
