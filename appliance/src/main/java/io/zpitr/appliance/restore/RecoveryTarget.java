// Where a restore should stop: a time, an LSN, a transaction, a named restore point, or the end of WAL.
package io.zpitr.appliance.restore;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.postgres.Lsn;
import io.zpitr.appliance.snapshot.SnapshotSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A recovery target, as PostgreSQL's {@code recovery_target_*} settings express it. A time always
 * reaches PostgreSQL with an explicit offset, never as a local time of some other clock.
 */
public sealed interface RecoveryTarget {
    /** The recovery settings for this target (without the action). */
    Map<String, String> settings(boolean exclusive);

    /** Whether the set's consistent point lies at or before the target, so replay from it can reach it. */
    boolean reachableFrom(SnapshotSet set);

    /** How to show it to a person. */
    String describe();

    /** A point in time. */
    record Time(OffsetDateTime at) implements RecoveryTarget {
        private static final DateTimeFormatter PG = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx");

        @Override
        public Map<String, String> settings(boolean exclusive) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("recovery_target_time", PG.format(at));
            m.put("recovery_target_inclusive", exclusive ? "off" : "on");
            return m;
        }

        @Override
        public boolean reachableFrom(SnapshotSet set) {
            Instant consistent = set.replayTime() != null ? set.replayTime().toInstant() : set.created();
            return !consistent.isAfter(at.toInstant());
        }

        @Override
        public String describe() {
            return "time " + PG.format(at);
        }
    }

    /** A WAL location. */
    record AtLsn(Lsn lsn) implements RecoveryTarget {
        @Override
        public Map<String, String> settings(boolean exclusive) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("recovery_target_lsn", lsn.toString());
            m.put("recovery_target_inclusive", exclusive ? "off" : "on");
            return m;
        }

        @Override
        public boolean reachableFrom(SnapshotSet set) {
            return set.replayLsn() != null && Lsn.parse(set.replayLsn()).compareTo(lsn) <= 0;
        }

        @Override
        public String describe() {
            return "LSN " + lsn;
        }
    }

    /** The commit of one transaction. */
    record Xid(long xid) implements RecoveryTarget {
        @Override
        public Map<String, String> settings(boolean exclusive) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("recovery_target_xid", Long.toString(xid & 0xFFFFFFFFL));
            m.put("recovery_target_inclusive", exclusive ? "off" : "on");
            return m;
        }

        /** Reachable when the transaction had not completed at the snapshot (its id is at or above next_xid). */
        @Override
        public boolean reachableFrom(SnapshotSet set) {
            long next = set.nextXid();
            if (next < 0) {
                return false;
            }
            // A 32-bit id (as xid columns show) is read in the snapshot's epoch.
            long full = xid <= 0xFFFFFFFFL ? (next & ~0xFFFFFFFFL) | xid : xid;
            return full >= next;
        }

        @Override
        public String describe() {
            return "transaction " + xid;
        }
    }

    /** A restore point made with {@code pg_create_restore_point()}. */
    record Name(String name) implements RecoveryTarget {
        private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_.:-]{1,63}");

        public Name {
            if (!SAFE.matcher(name).matches()) {
                throw ZpitrError.INVALID_ARGUMENT.exception(
                        "restore point name '" + name + "' must be 1-63 letters, digits and _ . : -");
            }
        }

        @Override
        public Map<String, String> settings(boolean exclusive) {
            return Map.of("recovery_target_name", name);
        }

        /**
         * Where a named point lies in WAL is unknown until replay finds it: every set may reach it,
         * and the planner starts from the oldest unless told otherwise.
         */
        @Override
        public boolean reachableFrom(SnapshotSet set) {
            return true;
        }

        @Override
        public String describe() {
            return "restore point '" + name + "'";
        }
    }

    /** The end of the archived WAL. */
    record Latest() implements RecoveryTarget {
        @Override
        public Map<String, String> settings(boolean exclusive) {
            return Map.of();
        }

        @Override
        public boolean reachableFrom(SnapshotSet set) {
            return true;
        }

        @Override
        public String describe() {
            return "the end of the archived WAL";
        }
    }

    /**
     * The snapshot's own consistent point ({@code recovery_target = 'immediate'}): replay only
     * what the clone needs to be consistent, then stop. The quickest queryable copy of a set.
     */
    record Immediate() implements RecoveryTarget {
        @Override
        public Map<String, String> settings(boolean exclusive) {
            return Map.of("recovery_target", "immediate");
        }

        @Override
        public boolean reachableFrom(SnapshotSet set) {
            return true;
        }

        @Override
        public String describe() {
            return "the snapshot's consistent point";
        }
    }
}
