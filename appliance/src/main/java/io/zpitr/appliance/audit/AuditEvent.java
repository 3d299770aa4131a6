// The kinds of event the audit log records; their wire names are part of the log's format.
package io.zpitr.appliance.audit;

/**
 * What happened. The wire name ({@link #wireName()}) is what the log stores in {@code event}; it
 * never changes once released, so old logs stay readable. Readers accept any lowercase name, so
 * a newer zpitr's events print on an older one.
 */
public enum AuditEvent {
    /** A snapshot set was taken (or taking one failed). */
    SNAPSHOT("snapshot"),
    /** Retention destroyed a snapshot set (or destroying it failed). */
    PRUNE_DESTROY("prune_destroy"),
    /** A legal hold was placed on a snapshot set. */
    HOLD("hold"),
    /** A legal hold was released. */
    RELEASE("release"),
    /** A restore was started: clone, recovery, instance. */
    RESTORE("restore"),
    /** A restore clone and its instance were dropped. */
    RESTORE_DROP("restore_drop"),
    /** A restore drill: a restore on a clone, checked, its evidence recorded (outcome ok only when every check passed). */
    DRILL("drill"),
    /** Snapshot sets were sent to a replication target (or sending them failed). */
    REPLICATE("replicate"),
    /** A scheduled job of the daemon failed. */
    JOB_FAILURE("job_failure");

    private final String wireName;

    AuditEvent(String wireName) {
        this.wireName = wireName;
    }

    /** The name as stored in the log's {@code event} field. */
    public String wireName() {
        return wireName;
    }
}
