// `zpitr check`: one line per check, OK / WARN / FAIL with a hint; exit 1 on any FAIL.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.check.ApplianceCheck;
import io.zpitr.appliance.check.CheckResult;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Validates the config and probes everything zpitr depends on. */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = {
            "Validates the config and probes everything zpitr depends on.",
            "zfs, each dataset, the standby, every archive source (each transport, host keys), spool space,",
            "clock skew against the primary and the last snapshot's age.",
            "One line per check. Exit 1 on any FAIL, 2 if the config itself is invalid."
        })
final class CheckCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        List<CheckResult> results = new ApplianceCheck(main.appliance()).run();
        PrintWriter out = spec.commandLine().getOut();
        int width = results.stream().mapToInt(r -> r.what().length()).max().orElse(10);
        for (CheckResult r : results) {
            out.printf("%-4s  %-" + width + "s  %s%n", r.level(), r.what(), r.detail());
            if (r.hint() != null && r.level() != CheckResult.Level.OK) {
                out.printf("      %" + width + "s  HINT: %s%n", "", r.hint());
            }
        }
        long failed = results.stream()
                .filter(r -> r.level() == CheckResult.Level.FAIL)
                .count();
        long warned = results.stream()
                .filter(r -> r.level() == CheckResult.Level.WARN)
                .count();
        out.println(failed + " failed, " + warned + " warning(s), " + (results.size() - failed - warned) + " ok.");
        out.flush();
        return failed > 0 ? Main.FAILED : Main.OK;
    }
}
