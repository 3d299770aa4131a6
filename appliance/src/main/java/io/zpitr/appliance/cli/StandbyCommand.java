// `zpitr standby init`: the live standby built from the primary onto the configured datasets.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.standby.StandbyBuilder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The standby's own life cycle; today one subcommand, {@code init}. */
@Command(
        name = "standby",
        mixinStandardHelpOptions = true,
        description = "Builds the live standby that zpitr snapshots (see docs/operations.md).",
        subcommands = {StandbyCommand.Init.class})
final class StandbyCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return Main.USAGE;
    }

    /** pg_basebackup from the primary into postgres.data_dir, then the standby settings. */
    @Command(
            name = "init",
            mixinStandardHelpOptions = true,
            description = {
                "Builds the standby on the configured datasets from postgres.primary: pg_basebackup -X stream"
                        + " -c fast, run as postgres.os_user, into postgres.data_dir, which must be empty and inside the first"
                        + " dataset. Then writes standby.signal and postgresql.auto.conf (recovery.conf before 12):"
                        + " restore_command = zpitr wal-fetch, primary_conninfo without a password, recovery_target_timeline"
                        + " = latest, hot_standby = on.",
                "The password comes from postgres.primary.password_file or os_user's ~/.pgpass; it never appears in"
                        + " an argument, a setting or a log line."
            },
            footer = {
                "",
                "Exit codes: 0 built; 1 pg_basebackup or writing failed; 2 config error, or a target folder that"
                        + " is not empty (nothing is changed then)."
            })
    static final class Init implements Callable<Integer> {
        @CommandLine.ParentCommand
        StandbyCommand parent;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(
                names = "--waldir",
                paramLabel = "PATH",
                description = "pg_wal in this folder, outside ZFS as the runbook advises (pg_basebackup --waldir).")
        Path walDir;

        @Option(
                names = {"-T", "--tablespace-mapping"},
                paramLabel = "OLDDIR=NEWDIR",
                description =
                        "Put the primary's tablespace OLDDIR at NEWDIR, a folder on one of zfs.datasets (repeatable).")
        List<String> tablespaceMappings = new ArrayList<>();

        @Option(
                names = "--application-name",
                paramLabel = "NAME",
                description =
                        "The standby's name in the primary's pg_stat_replication (default: this host's short name).")
        String applicationName;

        @Option(names = "--dry-run", description = "Print what it would do; change nothing.")
        boolean dryRun;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            io.zpitr.appliance.Appliance appliance = parent.main.appliance();
            StandbyBuilder builder = new StandbyBuilder(appliance, out, RestoreCommand.launcher());
            StandbyBuilder.Plan plan =
                    builder.plan(new StandbyBuilder.Options(walDir, tablespaceMappings, applicationName));
            if (dryRun) {
                builder.describe(plan);
                out.println("dry run: nothing was changed.");
                return Main.OK;
            }
            StandbyBuilder.Result result = builder.build(plan);
            out.printf(
                    "built the standby of %s in %s (PostgreSQL %d, %d s)%n",
                    plan.primary().describe(),
                    plan.dataDir(),
                    result.major(),
                    result.took().toSeconds());
            plan.walDir().ifPresent(w -> out.println("pg_wal:    " + w));
            out.println("wrote:     " + String.join(", ", result.written()));
            plan.standbySettings()
                    .forEach((k, v) -> out.println("           " + k + " = '" + v.replace("'", "''") + "'"));
            out.println("           hot_standby = on");
            plan.passwordFile()
                    .ifPresent(f -> out.println("password:  in " + plan.passfile() + " only (owner " + plan.osUser()
                            + ", mode 0600), named by primary_conninfo's passfile"));
            List<String> start = builder.howToStart(plan, result.major());
            out.println("start it:  " + start.get(0));
            for (String line : start.subList(1, start.size())) {
                out.println("           " + line);
            }
            out.println("then:      zpitr --config " + appliance.settings().file() + " snapshot --label base"
                    + "   (once the standby is consistent; docs/operations.md)");
            return Main.OK;
        }
    }
}
