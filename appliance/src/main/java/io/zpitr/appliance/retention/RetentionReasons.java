// Why retention keeps each snapshot set, in words, for listings and reports.
package io.zpitr.appliance.retention;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.snapshot.SnapshotSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The pure policy's decisions over the sets as they are now. */
public final class RetentionReasons {
    private RetentionReasons() {}

    /**
     * Why retention keeps each set (or that the next prune would destroy it), from the pure policy;
     * empty when no retention is configured. Clones are not looked up here (one zfs call per
     * listing): a set kept only by its restore clones shows as a prune candidate, and prune keeps it.
     */
    public static Map<String, String> of(Appliance appliance, List<SnapshotSet> all) {
        Map<String, String> reasons = new LinkedHashMap<>();
        if (appliance.settings().retention().isEmpty()) {
            return reasons;
        }
        List<RetentionCandidate> candidates =
                all.stream().map(s -> s.retentionCandidate(false)).toList();
        for (var d : appliance
                .retentionPolicy()
                .decide(candidates, appliance.settings().timezone(), appliance.clock())) {
            reasons.put(d.id(), d.kept() ? d.reasonText() : "prune candidate");
        }
        return reasons;
    }
}
