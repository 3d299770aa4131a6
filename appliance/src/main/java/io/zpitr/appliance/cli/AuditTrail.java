// Writes the audit line for a command that changes something, success or failure alike.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.audit.Outcome;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** The commands' one way to the audit log: the argv as typed, the event, the outcome, details. */
final class AuditTrail {
    private AuditTrail() {}

    /** An action whose details go to the audit log. */
    @FunctionalInterface
    interface Action {
        Map<String, Object> run() throws Exception;
    }

    /**
     * Runs {@code action} and records it: {@code ok} with its details, or {@code failed} with the
     * error, which is then rethrown. A failure is never reported as success.
     */
    static Map<String, Object> run(
            Appliance appliance,
            CommandLine.Model.CommandSpec spec,
            AuditEvent event,
            Map<String, Object> known,
            Action action)
            throws Exception {
        List<String> argv = spec.root().commandLine().getParseResult() == null
                ? List.of()
                : spec.root().commandLine().getParseResult().originalArgs();
        Map<String, Object> details;
        try {
            details = action.run();
        } catch (Exception e) {
            Map<String, Object> failure = new LinkedHashMap<>(known);
            failure.put(
                    "error", String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
            appliance.audit().append(event, argv, Outcome.FAILED, failure);
            throw e;
        }
        Map<String, Object> all = new LinkedHashMap<>(known);
        all.putAll(details);
        appliance.audit().append(event, argv, Outcome.OK, all);
        return all;
    }
}
