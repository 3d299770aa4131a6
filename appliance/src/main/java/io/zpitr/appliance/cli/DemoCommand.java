// `zpitr demo`: the README's first command, a narrated run on a throw-away sandbox.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.demo.ZfsTour;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Builds a throw-away sandbox and narrates what zpitr does in it. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs zpitr's life cycle on a throw-away sandbox, narrated.", "Today: a file-backed ZFS pool with an atomic snapshot of two datasets carrying metadata,",
                "an O(1) clone, a legal hold and a listing. The sandbox stays until zpitr demo --clean.",
                "The PostgreSQL standby, archive hosts and restore steps join the demo as those features land.",
                "Installs zfs-fuse and starts its daemon when missing (needs root)."})
final class DemoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--clean", description = "Remove everything an earlier demo left, and stop.")
    boolean clean;

    @Option(names = "--dir", description = "Sandbox folder (default: ${DEFAULT-VALUE}).")
    Path dir = Path.of("/var/tmp/zpitr-demo");

    @Override
    public Integer call() {
        ZfsTour tour = new ZfsTour(dir, spec.commandLine().getOut());
        if (clean) {
            tour.clean();
        } else {
            tour.run();
        }
        return Main.OK;
    }
}
