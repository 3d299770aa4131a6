// `zpitr wal-mirror`: one pass of the WAL mirror, as the daemon runs it every few seconds.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.Appliance;
import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.snapshot.SnapshotSet;
import io.zpitr.appliance.wal.ArchiveSources;
import io.zpitr.appliance.wal.WalMirror;
import io.zpitr.archive.WalFetcher;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Brings {@code archive.mirror_dir} up to the archive once (for a cron job, or before a restore). */
@Command(
        name = "wal-mirror",
        mixinStandardHelpOptions = true,
        description = "Copies the archived WAL since the newest snapshot set into archive.mirror_dir, verified,"
                + " and deletes what lies before that set. The daemon does this every few seconds.")
final class WalMirrorCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Appliance appliance = main.appliance();
        WalMirror mirror = WalMirror.of(appliance.settings())
                .orElseThrow(
                        () -> ZpitrError.CONFIG_INVALID.exception(
                                "archive.mirror_dir is not set: there is no WAL mirror to fill"
                                        + "\nHINT: set archive.mirror_dir to a folder on this machine (docs/restore-guide.md)"));
        List<SnapshotSet> sets = appliance.catalog().list();
        if (sets.isEmpty()) {
            spec.commandLine().getOut().println("WAL mirror: no snapshot set yet; nothing to mirror");
            return Main.OK;
        }
        SnapshotSet newest = sets.get(sets.size() - 1);
        WalMirror.Pass pass;
        try (WalFetcher fetcher =
                new WalFetcher(ArchiveSources.open(appliance.settings()), WalMirror.verifierFor(newest))) {
            pass = mirror.pass(newest, fetcher, Integer.MAX_VALUE);
        }
        spec.commandLine().getOut().println(pass.describe());
        return pass.troubled() ? Main.FAILED : Main.OK;
    }
}
