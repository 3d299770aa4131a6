// A restore clone as zpitr restores lists it, read back from its ZFS properties.
package io.zpitr.appliance.restore;

/**
 * @param name     the restore's name
 * @param dataset  its root dataset (below restore.dataset_root)
 * @param snapshot the snapshot set it was cloned from
 * @param target   the target it was restored to
 * @param port     the port its PostgreSQL listens on
 * @param pgdata   the data directory inside the clone
 * @param state    building, running, paused, shut down, failed, interrupted (its building process died);
 *                 "running" is checked against postmaster.pid
 * @param expires  when the daemon drops it (ISO-8601 UTC), or null: never
 */
public record RestoredInstance(
        String name,
        String dataset,
        String snapshot,
        String target,
        int port,
        String pgdata,
        String state,
        String expires) {}
