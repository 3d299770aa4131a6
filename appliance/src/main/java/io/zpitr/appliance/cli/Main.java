// The zpitr command line: parses, dispatches to one class per command, maps exceptions to exit codes.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.config.Settings;
import io.zpitr.process.ProcessException;
import io.zpitr.zfs.InvalidNameException;
import io.zpitr.zfs.ZfsException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point. Only this class exits the JVM. Exit codes (DESIGN.md): 0 success, 1 the operation
 * failed, 2 usage or config error, 3 target not restorable.
 */
@Command(name = "zpitr",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "ZFS snapshot and point-in-time-recovery appliance for PostgreSQL.",
        subcommands = {CheckCommand.class, StatusCommand.class, SnapshotCommand.class, ListCommand.class, PruneCommand.class,
                HoldCommand.class, ReleaseCommand.class, AuditCommand.class, RestoreCommand.class, RestoresCommand.class,
                RestoreDropCommand.class, ReplicateCommand.class, StandbyCommand.class, DaemonCommand.class,
                DemoCommand.class, WalFetchCommand.class, WalPrefetchCommand.class, CommandLine.HelpCommand.class},
        // docs/exit-codes.md; also the EXIT STATUS section of zpitr(1), generated from this list.
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:the operation failed; the message says why (HINT: lines); wal-fetch: the file is on no source that answered",
            "2:usage or configuration error; nothing was changed",
            "3:restore: the target is not restorable",
            "4:wal-fetch: no source could be asked",
            "5:wal-fetch: copies were found, but none passed verification"})
public final class Main implements Runnable {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--config", paramLabel = "FILE",
            description = "Configuration file (default: $ZPITR_CONFIG, else /etc/zpitr/zpitr.yaml).")
    Path config;

    /** The appliance for the configuration, built when a command first needs it. */
    io.zpitr.appliance.Appliance appliance() {
        return new io.zpitr.appliance.Appliance(settings(), new io.zpitr.process.ProcessRunner(), java.time.Clock.systemUTC());
    }

    /** The configuration, read when a command first needs it. */
    Settings settings() {
        return ConfigLoader.load(ConfigLoader.locate(config, System.getenv()));
    }

    public static void main(String[] args) {
        int code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        io.zpitr.appliance.wal.LauncherHandoff.exiting(code);
        System.exit(code);
    }

    /** Runs one command line and returns its exit code; used by {@link #main} and by tests. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("zpitr: " + message(e));
            return exitCode(e);
        });
        return cli.execute(args);
    }

    static int exitCode(Throwable e) {
        if (e instanceof io.zpitr.appliance.restore.NotRestorableException) {
            return RestoreCommand.NOT_RESTORABLE;
        }
        if (e instanceof ConfigException || e instanceof InvalidNameException || e instanceof IllegalArgumentException
                || e instanceof CommandLine.ParameterException) {
            return USAGE;
        }
        return FAILED;
    }

    private static String message(Throwable e) {
        if (e instanceof ZfsException || e instanceof ProcessException || e instanceof IllegalArgumentException
                || e instanceof ConfigException || e instanceof IllegalStateException
                || e instanceof io.zpitr.appliance.restore.NotRestorableException) {
            return e.getMessage();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    @Override
    public void run() {
        // No command given: show what there is.
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Reads the version Maven wrote into the jar. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"zpitr " + (v == null ? "(development build)" : v)};
        }
    }
}
