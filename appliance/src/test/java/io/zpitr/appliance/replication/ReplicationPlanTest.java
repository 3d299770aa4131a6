package io.zpitr.appliance.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.replication.ReplicationPlan.Landing;
import io.zpitr.appliance.replication.ReplicationPlan.TargetSnapshot;
import io.zpitr.zfs.DatasetName;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The pure plan: base, what to send, what to clear, when to refuse. */
class ReplicationPlanTest {
    static final DatasetName DATA = DatasetName.of("backup/zpitr/pg/data");
    static final DatasetName TBL = DatasetName.of("backup/zpitr/pg/tblspc1");
    static final List<String> SOURCE = List.of("a", "b", "c", "d");

    static TargetSnapshot done(String id) {
        return new TargetSnapshot(id, true);
    }

    static TargetSnapshot unfinished(String id) {
        return new TargetSnapshot(id, false);
    }

    static Landing on(DatasetName d, TargetSnapshot... snaps) {
        return new Landing(d, true, List.of(snaps));
    }

    @Test
    void anEmptyTargetGetsEverySetTheFirstOneFull() {
        ReplicationPlan p = ReplicationPlan.decide(SOURCE, List.of(Landing.absent(DATA), Landing.absent(TBL)), false);
        assertEquals(Optional.empty(), p.base());
        assertEquals(SOURCE, p.toSend());
        assertTrue(p.destroyDatasets().isEmpty()
                && p.destroySnapshots().isEmpty()
                && p.divergence().isEmpty());
    }

    @Test
    void theBaseIsTheNewestSetCompleteOnEveryLanding() {
        ReplicationPlan p = ReplicationPlan.decide(
                SOURCE, List.of(on(DATA, done("a"), done("b")), on(TBL, done("a"), done("b"))), false);
        assertEquals(Optional.of("b"), p.base());
        assertEquals(List.of("c", "d"), p.toSend());
        assertTrue(p.upToDate() == false && p.divergence().isEmpty());
        ReplicationPlan none = ReplicationPlan.decide(
                SOURCE, List.of(on(DATA, done("a"), done("d")), on(TBL, done("a"), done("d"))), false);
        assertTrue(none.upToDate());
    }

    @Test
    void setsThePrunedSourceNoLongerHasStayOnTheTargetAndAreNoDivergence() {
        ReplicationPlan p = ReplicationPlan.decide(
                List.of("c", "d"),
                List.of(on(DATA, done("a"), done("b"), done("c")), on(TBL, done("a"), done("b"), done("c"))),
                false);
        assertEquals(Optional.of("c"), p.base());
        assertEquals(List.of("d"), p.toSend());
        assertTrue(p.divergence().isEmpty());
    }

    @Test
    void anInterruptedSetIsClearedAndSentAgain() {
        // c arrived on the first dataset only, without its properties: an interrupted run.
        ReplicationPlan p = ReplicationPlan.decide(
                SOURCE, List.of(on(DATA, done("a"), done("b"), unfinished("c")), on(TBL, done("a"), done("b"))), false);
        assertEquals(Optional.of("b"), p.base());
        assertEquals(List.of(DATA.snapshot("c")), p.destroySnapshots());
        assertEquals(List.of("c", "d"), p.toSend());
        // Properties written on one landing but not the other: still unfinished.
        ReplicationPlan half = ReplicationPlan.decide(
                SOURCE, List.of(on(DATA, done("a"), done("c")), on(TBL, done("a"), unfinished("c"))), false);
        assertEquals(List.of(DATA.snapshot("c"), TBL.snapshot("c")), half.destroySnapshots());
    }

    @Test
    void anInterruptedFirstCopyIsDestroyedWhole() {
        ReplicationPlan p =
                ReplicationPlan.decide(SOURCE, List.of(on(DATA, unfinished("a")), Landing.absent(TBL)), false);
        assertEquals(List.of(DATA), p.destroyDatasets());
        assertEquals(SOURCE, p.toSend());
    }

    @Test
    void aForeignSnapshotAfterTheBaseIsDivergenceUnlessForced() {
        List<Landing> landings = List.of(on(DATA, done("a"), done("b"), done("mine")), on(TBL, done("a"), done("b")));
        ReplicationPlan refused = ReplicationPlan.decide(SOURCE, landings, false);
        assertTrue(
                refused.divergence().orElseThrow().contains(DATA + " has mine after the newest common set b"),
                refused.divergence().toString());
        assertTrue(refused.destroySnapshots().isEmpty() && refused.rollbacks().isEmpty());
        ReplicationPlan forced = ReplicationPlan.decide(SOURCE, landings, true);
        assertEquals(List.of(DATA.snapshot("b")), forced.rollbacks());
        assertEquals(List.of("c", "d"), forced.toSend());
    }

    @Test
    void aLandingThatSharesNothingWithTheSourceIsRefusedUnlessForced() {
        List<Landing> landings = List.of(on(DATA, done("x")), Landing.absent(TBL));
        assertTrue(ReplicationPlan.decide(SOURCE, landings, false)
                .divergence()
                .orElseThrow()
                .contains("shares no snapshot set with the source (it holds x)"));
        assertEquals(
                List.of(DATA), ReplicationPlan.decide(SOURCE, landings, true).destroyDatasets());
        // An empty dataset where a landing goes is somebody's: refused, never destroyed silently.
        assertTrue(ReplicationPlan.decide(SOURCE, List.of(on(DATA), Landing.absent(TBL)), false)
                .divergence()
                .isPresent());
    }
}
