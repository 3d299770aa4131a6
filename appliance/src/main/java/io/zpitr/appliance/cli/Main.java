// The zpitr command line: parses, dispatches to one class per command, maps exceptions to exit codes.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.config.ConfigLoader;
import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.error.ZpitrException;
import io.zpitr.process.ProcessException;
import io.zpitr.zfs.InvalidNameException;
import io.zpitr.zfs.ZfsException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point. Only this class exits the JVM. A failure's exit status comes from its entry in
 * the error catalog ({@link ZpitrError}; docs/exit-codes.md lists the same, and a test compares
 * them with the list below).
 */
@Command(
        name = "zpitr",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "ZFS snapshot and point-in-time-recovery appliance for PostgreSQL.",
        // ZpitrError.EXIT_STATUS, word for word (MainTest checks); also the EXIT STATUS section of zpitr(1).
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:the operation failed; the message says why (HINT: lines); wal-fetch: the file is on no source that answered",
            "2:usage or configuration error; nothing was changed",
            "3:restore, drill: the target is not restorable",
            "4:wal-fetch: no source could be asked",
            "5:wal-fetch: copies were found, but none passed verification"
        })
public class Main implements Runnable {
    /**
     * Main with every subcommand: what the help, the man page and the shell completion see. A
     * command line that names one is parsed by a Main that has only that one ({@link #commandsFor}):
     * picocli builds each command's model by reflection, and building all of them cost ~0.15 s of
     * every JVM start (measured: docs/restore-guide.md).
     */
    @Command(
            subcommands = {
                CheckCommand.class,
                StatusCommand.class,
                SnapshotCommand.class,
                ListCommand.class,
                PruneCommand.class,
                HoldCommand.class,
                ReleaseCommand.class,
                AuditCommand.class,
                RestoreCommand.class,
                RestoresCommand.class,
                RestoreDropCommand.class,
                DrillCommand.class,
                ReportCommand.class,
                ReplicateCommand.class,
                StandbyCommand.class,
                DaemonCommand.class,
                DemoCommand.class,
                WalFetchCommand.class,
                WalPrefetchCommand.class,
                WalMirrorCommand.class,
                CommandLine.HelpCommand.class
            })
    public static final class All extends Main {}

    /** The subcommands, in the order the help lists them. */
    static final List<Class<?>> COMMANDS =
            List.of(All.class.getAnnotation(Command.class).subcommands());

    public static final int OK = 0;
    public static final int FAILED = ZpitrError.FAILED.exitStatus();
    public static final int USAGE = ZpitrError.USAGE.exitStatus();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(
            names = "--config",
            paramLabel = "FILE",
            description = "Configuration file (default: $ZPITR_CONFIG, else /etc/zpitr/zpitr.yaml).")
    Path config;

    /** The appliance for the configuration, built when a command first needs it. */
    io.zpitr.appliance.Appliance appliance() {
        Settings settings = settings();
        Path located = located();
        io.zpitr.process.ProcessRunner runner = new io.zpitr.process.ProcessRunner();
        return new io.zpitr.appliance.Appliance(
                settings,
                runner,
                java.time.Clock.systemUTC(),
                () -> early.flatMap(e -> e.zfsOf(located))
                        .orElseGet(() -> io.zpitr.zfs.Zfs.detect(runner, settings.zfsCommand())));
    }

    /** The configuration, read when a command first needs it (or already, beside the parse: {@link EarlyConfig}). */
    Settings settings() {
        Path located = located();
        return early.flatMap(e -> e.settingsOf(located)).orElseGet(() -> ConfigLoader.load(located));
    }

    private Path located() {
        return ConfigLoader.locate(config, System.getenv());
    }

    /** The config being read since the command line was seen, if it names one. */
    private Optional<EarlyConfig> early = Optional.empty();

    public static void main(String[] args) {
        // The terminal's encoding, as System.out itself uses.
        int code = run(
                args,
                new PrintWriter(System.out, true, java.nio.charset.Charset.defaultCharset()),
                new PrintWriter(System.err, true, java.nio.charset.Charset.defaultCharset()));
        io.zpitr.appliance.wal.LauncherHandoff.exiting(code);
        System.exit(code);
    }

    /** Runs one command line and returns its exit code; used by {@link #main} and by tests. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Named named = named(args);
        Main root = named.command().isPresent() ? new Main() : new All();
        root.early = EarlyConfig.start(named, System.getenv());
        CommandLine cli = new CommandLine(root);
        named.command().ifPresent(cli::addSubcommand);
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            report(e, commandLine.getErr(), System.getenv());
            return exitCode(e);
        });
        return cli.execute(args);
    }

    /**
     * What a command line names before picocli parses it: the value of {@code --config} (as
     * {@code --config FILE} or {@code --config=FILE}) and the subcommand, its first word that is
     * neither an option nor that value. No subcommand when it names none, one that does not exist,
     * or {@code help}.
     */
    record Named(Optional<Path> config, Optional<Class<?>> command) {}

    static Named named(String[] args) {
        Path config = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--config")) {
                if (++i < args.length) {
                    config = Path.of(args[i]);
                }
            } else if (a.startsWith("--config=")) {
                config = Path.of(a.substring("--config=".length()));
            } else if (a.equals("--")) {
                break;
            } else if (!a.startsWith("-")) {
                for (Class<?> c : COMMANDS) {
                    Command command = c.getAnnotation(Command.class);
                    if (!a.equals("help")
                            && (a.equals(command.name())
                                    || java.util.Arrays.asList(command.aliases())
                                            .contains(a))) {
                        return new Named(Optional.ofNullable(config), Optional.of(c));
                    }
                }
                break;
            }
        }
        return new Named(Optional.ofNullable(config), Optional.empty());
    }

    /**
     * The subcommands a Main for this command line needs: the one it names, else every one, so
     * that usage and "did you mean" see them all.
     */
    static List<Class<?>> commandsFor(String[] args) {
        return named(args).command().<List<Class<?>>>map(List::of).orElse(COMMANDS);
    }

    /** The catalog entry of a failure: zpitr's own errors name theirs; the lower modules' typed errors map here. */
    static ZpitrError classify(Throwable e) {
        if (e instanceof ZpitrException z) {
            return z.error();
        }
        if (e instanceof CommandLine.ParameterException) {
            return ZpitrError.USAGE;
        }
        if (e instanceof InvalidNameException) {
            return ZpitrError.INVALID_NAME;
        }
        if (e instanceof ZfsException) {
            return ZpitrError.ZFS_FAILED;
        }
        if (e instanceof ProcessException) {
            return ZpitrError.PROCESS_FAILED;
        }
        if (e instanceof IOException || e instanceof UncheckedIOException) {
            return ZpitrError.IO_FAILED;
        }
        if (e instanceof SQLException) {
            return ZpitrError.POSTGRES_FAILED;
        }
        return ZpitrError.INTERNAL;
    }

    static int exitCode(Throwable e) {
        return classify(e).exitStatus();
    }

    /**
     * What the user reads: {@code zpitr: [code] message}, the entry's hint when the message brings
     * none, and the stack trace only with {@code ZPITR_LOG_LEVEL=debug}. An unexpected exception is
     * one line too, naming its class.
     */
    static void report(Throwable e, PrintWriter err, Map<String, String> env) {
        ZpitrError error = classify(e);
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (error == ZpitrError.INTERNAL) {
            message = "unexpected " + e.getClass().getName()
                    + (message.isEmpty()
                            ? ""
                            : ": " + message.lines().findFirst().orElse(""));
        } else if (e instanceof IOException || e instanceof UncheckedIOException || e instanceof SQLException) {
            message = e.getClass().getSimpleName() + ": " + message; // a JDK exception's message alone is only a path
        }
        err.println("zpitr: [" + error.code() + "] " + message);
        if (!message.contains("HINT:") && !error.hint().isEmpty()) {
            err.println("HINT: " + error.hint());
        }
        if ("debug".equalsIgnoreCase(env.getOrDefault("ZPITR_LOG_LEVEL", ""))) {
            e.printStackTrace(err);
        }
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
