// `zpitr restore-drop NAME`: stops a restored instance and destroys its clones.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.audit.AuditEvent;
import io.zpitr.appliance.restore.RestoreService;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Idempotent: dropping a restore that is gone succeeds and says so. */
@Command(
        name = "restore-drop",
        mixinStandardHelpOptions = true,
        description = "Stops a restored instance and destroys its clones. Idempotent.")
final class RestoreDropCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "The restore's name, as zpitr restores shows it.")
    String name;

    @Override
    public Integer call() throws Exception {
        Appliance appliance = main.appliance();
        RestoreService service =
                new RestoreService(appliance, spec.commandLine().getOut(), false, null);
        boolean[] dropped = new boolean[1];
        AuditTrail.run(appliance, spec, AuditEvent.RESTORE_DROP, Map.of("name", name), () -> {
            dropped[0] = service.drop(name);
            return Map.of("dropped", dropped[0]);
        });
        spec.commandLine()
                .getOut()
                .println(dropped[0] ? "dropped restore " + name : "no restore named " + name + "; nothing to drop");
        return Main.OK;
    }
}
