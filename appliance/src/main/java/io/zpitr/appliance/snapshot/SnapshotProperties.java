// The zpitr: user properties written on every snapshot: the pool itself is the catalog.
package io.zpitr.appliance.snapshot;

import java.util.List;

/** Names of the user properties zpitr records on its snapshots (documented in docs/snapshots.md). */
public final class SnapshotProperties {
    public static final String FORMAT = "zpitr:format";
    public static final String SET = "zpitr:set";
    public static final String DATASETS = "zpitr:datasets";
    public static final String ATOMICITY = "zpitr:atomicity";
    public static final String LABEL = "zpitr:label";
    public static final String SOURCE = "zpitr:pg_source";
    public static final String TIMELINE = "zpitr:timeline";
    public static final String REDO_LSN = "zpitr:redo_lsn";
    public static final String CHECKPOINT_LSN = "zpitr:checkpoint_lsn";
    public static final String REPLAY_LSN = "zpitr:replay_lsn";
    public static final String REPLAY_TIME = "zpitr:replay_time";
    public static final String SYSTEM_ID = "zpitr:system_id";
    public static final String NEXT_XID = "zpitr:next_xid";
    public static final String PG_VERSION = "zpitr:pg_version";
    public static final String CREATED_BY = "zpitr:created_by";
    /** Hold tags, comma-separated: zfs-fuse cannot list tags ({@code zfs holds}), only count them. */
    public static final String HOLDS = "zpitr:holds";
    /** When a drill last restored the set (ISO-8601 UTC), and how it came out: passed, failed, not_restorable. */
    public static final String VERIFIED_AT = "zpitr:verified_at";

    public static final String VERIFIED_OUTCOME = "zpitr:verified_outcome";
    /** The audit log's head when the set was taken: {@code <line>:<sha256>} (audit.AuditAnchor). */
    public static final String AUDIT_HEAD = "zpitr:audit_head";

    /** Everything a listing asks ZFS for, in one call. */
    public static final List<String> LISTED = List.of(
            "creation",
            "used",
            "userrefs",
            FORMAT,
            SET,
            DATASETS,
            ATOMICITY,
            LABEL,
            SOURCE,
            TIMELINE,
            REDO_LSN,
            CHECKPOINT_LSN,
            REPLAY_LSN,
            REPLAY_TIME,
            SYSTEM_ID,
            NEXT_XID,
            PG_VERSION,
            CREATED_BY,
            HOLDS,
            VERIFIED_AT,
            VERIFIED_OUTCOME,
            AUDIT_HEAD);

    private SnapshotProperties() {}

    /** {@link #AUDIT_HEAD} for a set taken now, or none when the log is missing or broken (audit.AuditAnchor). */
    public static java.util.Map<String, String> auditHead(io.zpitr.appliance.audit.AuditLog log) {
        return io.zpitr.appliance.audit.AuditAnchor.current(log)
                .map(h -> java.util.Map.of(AUDIT_HEAD, h))
                .orElse(java.util.Map.of());
    }
}
