// Chooses the snapshot set a restore starts from and checks the archive holds the WAL it needs.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.archive.WalFileName;
import io.zpitr.archive.WalSegments;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The plan: the newest snapshot set whose consistent point lies at or before the target (for a
 * named restore point, whose place in WAL is unknown, the oldest set), then a walk over the archive
 * from the set's redo segment. Segments up to the consistent point — or the target LSN — must all
 * be there; otherwise the target is not restorable and the message names the first missing one.
 */
public final class RestorePlanner {
    /** WAL segment size assumed for names; PostgreSQL's default, and that of every cluster zpitr has seen. */
    /** How far past the required segments the walk looks, to tell where the archive ends. */
    static final int SCAN_AHEAD = 256;
    /**
     * The same for a restore about to run: replay finds the rest, and every segment looked at here
     * is a round trip to an archive host before the clone is made.
     */
    static final int SCAN_AHEAD_RUNNING = 8;

    private final List<SnapshotSet> setsOldestFirst;
    private final Predicate<WalFileName> archived;
    private final int scanAhead;
    /** Asked for the segments past the required ones; empty: {@link #archived} is. */
    private final Optional<Predicate<WalFileName>> ahead;

    /**
     * @param archived answers whether a segment is on some source; throws when no source can be asked
     */
    public RestorePlanner(List<SnapshotSet> setsOldestFirst, Predicate<WalFileName> archived) {
        this(setsOldestFirst, archived, SCAN_AHEAD);
    }

    /** @param scanAhead how many segments past the required ones to look for */
    public RestorePlanner(List<SnapshotSet> setsOldestFirst, Predicate<WalFileName> archived, int scanAhead) {
        this(setsOldestFirst, archived, scanAhead, Optional.empty());
    }

    /**
     * @param ahead asked instead of {@code archived} for the segments past the required ones (a
     *              restore with a WAL mirror: replay finds the rest, and no archive host needs a
     *              login for a look ahead); where it says no, the run goes on "at least" that far
     */
    public RestorePlanner(
            List<SnapshotSet> setsOldestFirst,
            Predicate<WalFileName> archived,
            int scanAhead,
            Optional<Predicate<WalFileName>> ahead) {
        this.setsOldestFirst = List.copyOf(setsOldestFirst);
        this.archived = archived;
        this.scanAhead = scanAhead;
        this.ahead = ahead;
    }

    public RestorePlan plan(RecoveryTarget target, Optional<String> forcedSet) {
        SnapshotSet base = choose(target, forcedSet);
        if (base.redoLsn() == null || base.timeline() < 1) {
            throw new NotRestorableException(
                    "snapshot set " + base.id() + " carries no PostgreSQL position"
                            + " (zpitr:redo_lsn, zpitr:timeline)\nHINT: it was not taken by zpitr snapshot; choose another with --snapshot");
        }
        if (!base.missing().isEmpty()) {
            throw new NotRestorableException("snapshot set " + base.id() + " lacks datasets " + base.missing()
                    + "\nHINT: choose another set with --snapshot");
        }
        WalFileName first =
                WalFileName.of(Lsn.parse(base.redoLsn()).walFileName(base.timeline(), WalSegments.DEFAULT_SIZE));
        Lsn through = Lsn.parse(base.replayLsn() == null ? base.redoLsn() : base.replayLsn());
        if (target instanceof RecoveryTarget.AtLsn lsn && lsn.lsn().compareTo(through) > 0) {
            through = lsn.lsn();
        }
        WalFileName required = WalFileName.of(through.walFileName(base.timeline(), WalSegments.DEFAULT_SIZE));
        long requiredCount = WalSegments.segmentNumber(required, WalSegments.DEFAULT_SIZE)
                - WalSegments.segmentNumber(first, WalSegments.DEFAULT_SIZE)
                + 1;
        WalFileName segment = first;
        WalFileName lastFound = null;
        int found = 0;
        while (found < requiredCount + scanAhead) {
            boolean there;
            boolean lookingAhead = found >= requiredCount && ahead.isPresent();
            try {
                there = lookingAhead ? ahead.get().test(segment) : archived.test(segment);
            } catch (RuntimeException e) {
                if (found < requiredCount) {
                    throw e;
                }
                // What the restore needs is there (in the WAL mirror); past it no source could be
                // asked: the run goes on "at least" this far, and replay asks again.
                return new RestorePlan(base, target, first.name(), required.name(), lastFound.name(), found, true);
            }
            if (!there && lookingAhead) {
                return new RestorePlan(base, target, first.name(), required.name(), lastFound.name(), found, true);
            }
            if (!there) {
                if (found < requiredCount) {
                    throw new NotRestorableException(
                            "WAL segment " + segment + " is missing from every archive source;"
                                    + " restoring " + base.id() + " to " + target.describe() + " needs " + first
                                    + " through " + required
                                    + "\nHINT: check the archive hosts (zpitr check) or restore from a later snapshot set with --snapshot");
                }
                return new RestorePlan(
                        base,
                        target,
                        first.name(),
                        required.name(),
                        lastFound == null ? null : lastFound.name(),
                        found,
                        false);
            }
            lastFound = segment;
            found++;
            segment = WalSegments.next(segment, WalSegments.DEFAULT_SIZE);
        }
        return new RestorePlan(base, target, first.name(), required.name(), lastFound.name(), found, true);
    }

    private SnapshotSet choose(RecoveryTarget target, Optional<String> forcedSet) {
        if (setsOldestFirst.isEmpty()) {
            throw new NotRestorableException(
                    "there is no snapshot set to restore from" + "\nHINT: take one with zpitr snapshot");
        }
        if (forcedSet.isPresent()) {
            SnapshotSet set = setsOldestFirst.stream()
                    .filter(s -> s.id().equals(forcedSet.get()))
                    .findFirst()
                    .orElseThrow(() -> new NotRestorableException(
                            "no snapshot set '" + forcedSet.get() + "'\nHINT: zpitr list shows the ids"));
            if (!target.reachableFrom(set)) {
                throw new NotRestorableException("snapshot set " + set.id() + " lies after " + target.describe()
                        + "\nHINT: choose an older set, or leave --snapshot out");
            }
            return set;
        }
        if (target instanceof RecoveryTarget.Name) {
            return setsOldestFirst.get(0);
        }
        for (int i = setsOldestFirst.size() - 1; i >= 0; i--) {
            if (target.reachableFrom(setsOldestFirst.get(i))) {
                return setsOldestFirst.get(i);
            }
        }
        SnapshotSet oldest = setsOldestFirst.get(0);
        throw new NotRestorableException("no snapshot set lies before " + target.describe() + "; the oldest, "
                + oldest.id() + ", is consistent from "
                + (oldest.replayTime() != null ? oldest.replayTime() : oldest.created())
                + (oldest.replayLsn() != null ? " (LSN " + oldest.replayLsn() + ")" : "")
                + "\nHINT: pick a later target; zpitr list shows the recoverable window");
    }
}
