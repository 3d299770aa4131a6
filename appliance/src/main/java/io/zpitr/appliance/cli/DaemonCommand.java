// `zpitr daemon`: runs the snapshot and prune schedules until SIGTERM; systemd Type=notify.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.daemon.Daemon;
import io.zpitr.appliance.daemon.StopSignals;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Starts the scheduler daemon and waits for the signal to stop it (docs/daemon.md). */
@Command(
        name = "daemon",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the snapshot and prune schedules until stopped (systemd Type=notify).",
            "Runs schedule.snapshot and schedule.prune until stopped (SIGTERM or SIGINT): one job at a time,"
                    + " a run missed while the daemon was down made up once at start-up, a failed job retried after"
                    + " 1, 5 and 15 minutes. Tells systemd when it is ready (Type=notify) and feeds its watchdog."
                    + " Each job's last run is kept in <state_dir>/schedule-state.json; see docs/daemon.md."
        })
final class DaemonCommand implements Callable<Integer> {
    /** The daemon's own log level unless the operator chose one: its lines are the journal's record of each run. */
    private static final String DAEMON_LOG_LEVEL = "org.slf4j.simpleLogger.log.io.zpitr.appliance.daemon";

    @CommandLine.ParentCommand
    Main main;

    @Override
    public Integer call() throws Exception {
        if (System.getProperty(DAEMON_LOG_LEVEL) == null
                && System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty(DAEMON_LOG_LEVEL, "info");
        }
        Daemon daemon = new Daemon(main.appliance(), Daemon.Options.forThisProcess(System.getenv()));
        StopSignals signals = StopSignals.install(daemon);
        try {
            daemon.start();
            daemon.stop(daemon.awaitStopRequest());
        } finally {
            signals.close();
        }
        return Main.OK;
    }
}
