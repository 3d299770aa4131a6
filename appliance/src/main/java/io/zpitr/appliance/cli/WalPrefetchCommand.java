// `zpitr wal-prefetch`: the background process wal-fetch starts to keep the spool ahead of replay.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.config.Settings;
import io.zpitr.appliance.wal.PrefetcherProcess;
import io.zpitr.archive.WalSegments;
import io.zpitr.archive.WalSpool;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Internal: started by wal-fetch; exits by itself when replay stops asking. */
@Command(
        name = "wal-prefetch",
        hidden = true,
        mixinStandardHelpOptions = true,
        description = "Keeps the next archive.prefetch segments in the spool (started by wal-fetch).")
final class WalPrefetchCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    Main main;

    @Option(names = "--segment-size", description = "WAL segment size in bytes (default: ${DEFAULT-VALUE}).")
    long segmentSize = WalSegments.DEFAULT_SIZE;

    @Option(
            names = "--idle-exit",
            description = "Stop after this long without a new request (default: ${DEFAULT-VALUE}).")
    String idleExit = io.zpitr.appliance.wal.WalFetchService.PREFETCH_IDLE_EXIT.toSeconds() + "s";

    @Option(
            names = "--system-identifier",
            paramLabel = "ID",
            description = "Spool only WAL of the cluster with this system identifier (recorded in the spool).")
    String systemIdentifier;

    @Override
    public Integer call() throws Exception {
        Settings settings = main.settings();
        if (systemIdentifier != null) {
            long id = SystemIdentifierOption.parse(systemIdentifier);
            new WalSpool(settings.archive().spoolDir()).recordSystemIdentifier(id);
        }
        int depth = settings.archive().prefetch();
        if (depth == 0) {
            return Main.OK;
        }
        WalSpool spool = new WalSpool(settings.archive().spoolDir());
        Optional<java.nio.channels.FileChannel> lock = PrefetcherProcess.claim(spool);
        if (lock.isEmpty()) {
            return Main.OK; // another prefetcher serves this spool
        }
        try (var channel = lock.get()) {
            Duration idle = io.zpitr.appliance.config.DurationText.parse(idleExit);
            PrefetcherProcess.create(settings, spool, segmentSize, idle, Optional.empty())
                    .run();
        }
        return Main.OK;
    }
}
