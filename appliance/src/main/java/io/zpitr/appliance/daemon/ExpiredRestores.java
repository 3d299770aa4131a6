// The daemon's sweep of restores whose expiry (restore --ttl, drill --keep --ttl, restore.default_ttl) has passed.
package io.zpitr.appliance.daemon;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.audit.Outcome;
import io.zpitr.appliance.restore.RestoreService;
import io.zpitr.appliance.restore.RestoredInstance;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each expired restore is dropped as {@code zpitr restore-drop} drops it (its instance stopped
 * first, then its clones destroyed) and recorded as a {@code restore_drop} audit line with
 * {@code reason: expired}; one that cannot be dropped is recorded as failed and tried again at
 * the next sweep. The command is {@code ["daemon", "expire"]}.
 */
public final class ExpiredRestores {
    static final List<String> AUDIT_COMMAND = List.of("daemon", "expire");

    private final Appliance appliance;

    public ExpiredRestores(Appliance appliance) {
        this.appliance = appliance;
    }

    /** Drops what has expired; returns one line per restore dropped or not. Does nothing without a restore section. */
    public List<String> sweep() {
        if (appliance.settings().restore().isEmpty()) {
            return List.of();
        }
        RestoreService service = new RestoreService(appliance, new PrintWriter(new StringWriter()), false, null);
        List<String> done = new ArrayList<>();
        for (RestoredInstance r : service.expired(appliance.clock().instant())) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("name", r.name());
            d.put("reason", "expired");
            d.put("expires", r.expires());
            d.put("snapshot", r.snapshot());
            try {
                service.drop(r.name());
                appliance.audit().append(AuditEvent.RESTORE_DROP, AUDIT_COMMAND, Outcome.OK, d);
                done.add("dropped restore " + r.name() + " (expired " + r.expires() + ")");
            } catch (java.io.IOException | RuntimeException e) {
                d.put("error", JobActions.firstLine(e));
                appliance.audit().append(AuditEvent.RESTORE_DROP, AUDIT_COMMAND, Outcome.FAILED, d);
                done.add("could not drop expired restore " + r.name() + ": " + JobActions.firstLine(e));
            }
        }
        return done;
    }
}
