// `zpitr restores`: the restore clones and their instances.
package io.zpitr.appliance.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.zpitr.appliance.restore.RestoreService;
import io.zpitr.appliance.restore.RestoredInstance;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Lists restores: name, snapshot, target, port, state. */
@Command(name = "restores", mixinStandardHelpOptions = true, description = "Lists restore clones and their instances.")
final class RestoresCommand implements Callable<Integer> {
    enum Format {
        table,
        json
    }

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--format", description = "table (default) or json.")
    Format format = Format.table;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<RestoredInstance> all = new RestoreService(main.appliance(), out, false, null).list();
        if (format == Format.json) {
            out.println(new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(all));
            return Main.OK;
        }
        String row = "%-22s %-40s %-6s %-10s %-24s %s%n";
        out.printf(row, "NAME", "SNAPSHOT", "PORT", "STATE", "EXPIRES (UTC)", "TARGET");
        for (RestoredInstance r : all) {
            out.printf(
                    row,
                    r.name(),
                    r.snapshot(),
                    r.port(),
                    r.state(),
                    r.expires() == null ? "never" : r.expires(),
                    r.target());
        }
        out.println(all.size() + " restore(s).");
        return Main.OK;
    }
}
