// `zpitr demo`: the README's first command, a narrated run on a throw-away sandbox.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.demo.LifeCycleTour;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Builds a throw-away sandbox and narrates zpitr's life cycle in it. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Runs zpitr's whole life cycle on a throw-away sandbox, narrated step by step.",
            "The sandbox: a file-backed ZFS pool, a PostgreSQL 15 primary archiving into dated folders on two archive"
                    + " hosts (sshd on 127.0.0.x), and a standby on ZFS fed only by zpitr wal-fetch.",
            "The life cycle: check, snapshot, two writes at known times, the first archive host failing,"
                    + " restore --to-time between the writes, the restored rows, a legal hold, list, audit --verify.",
            "Needs root; installs zfs-fuse, postgresql-15 and openssh-server when missing (apt-get, no questions)."
                    + " The sandbox keeps running until zpitr demo --clean; a new demo first removes an earlier one."
        })
final class DemoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--clean", description = "Stop and remove everything an earlier demo left, and stop.")
    boolean clean;

    @Option(names = "--dir", description = "Sandbox folder (default: ${DEFAULT-VALUE}).")
    Path dir = LifeCycleTour.defaultDir();

    @Override
    public Integer call() throws Exception {
        LifeCycleTour tour = new LifeCycleTour(dir, spec.commandLine().getOut());
        if (clean) {
            tour.clean();
        } else {
            tour.run(RestoreCommand.launcher(), DemoCommand::inProcess);
        }
        return Main.OK;
    }

    /** A zpitr command in this JVM, through the same parsing, dispatch and exit-code mapping as from the shell. */
    private static LifeCycleTour.Outcome inProcess(java.util.List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new LifeCycleTour.Outcome(code, out.toString(), err.toString());
    }
}
