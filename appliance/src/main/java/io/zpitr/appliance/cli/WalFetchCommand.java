// `zpitr wal-fetch %f %p`: PostgreSQL's restore_command.
package io.zpitr.appliance.cli;

import io.zpitr.appliance.error.ZpitrError;
import io.zpitr.appliance.wal.LauncherHandoff;
import io.zpitr.appliance.wal.WalFetchService;
import io.zpitr.archive.WalFetcher;
import io.zpitr.archive.WalFileName;
import io.zpitr.process.ProcessRunner;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The restore_command. Exit codes are PostgreSQL's contract: 0 fetched, 1 not found on any source
 * that answered (the normal end of the archive), and never above 125 for anything retrying can
 * fix (PostgreSQL aborts recovery on those).
 */
@Command(
        name = "wal-fetch",
        mixinStandardHelpOptions = true,
        description = {
            "Fetches one archived WAL file for PostgreSQL: restore_command = 'zpitr wal-fetch %%f %%p'.",
            "Sources are tried in configured order; every copy is verified before it lands, atomically, at DEST."
        },
        footer = {
            "",
            "Exit codes: 0 fetched; 1 not found on any source that answered; 2 bad WAL file name or config;",
            "4 no source could be asked; 5 only bad copies found. One stderr line per source tells what happened."
        })
final class WalFetchCommand implements Callable<Integer> {
    static final int NOT_FOUND = ZpitrError.WAL_NOT_FOUND.exitStatus();
    static final int NO_SOURCE = ZpitrError.WAL_NO_SOURCE.exitStatus();
    static final int BAD_COPIES = ZpitrError.WAL_UNVERIFIED.exitStatus();

    @CommandLine.ParentCommand
    Main main;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "WALFILE", description = "The file PostgreSQL asks for (%%f).")
    String walFile;

    @Parameters(
            index = "1",
            paramLabel = "DEST",
            description = "Where to put it (%%p), relative to PostgreSQL's data directory.")
    Path destination;

    @CommandLine.Option(
            names = "--system-identifier",
            paramLabel = "ID",
            description = {
                "Accept only WAL of the cluster with this system identifier (default: the one in",
                "global/pg_control of the directory PostgreSQL runs restore_command in)."
            })
    String systemIdentifier;

    @Override
    public Integer call() throws Exception {
        WalFileName name;
        try {
            name = WalFileName.of(walFile); // refused before anything is read or written
        } catch (IllegalArgumentException e) {
            throw ZpitrError.INVALID_NAME.exception(e.getMessage(), e);
        }
        WalFetchService service = new WalFetchService(
                main.settings(),
                new ProcessRunner(),
                systemIdentifier == null
                        ? java.util.OptionalLong.empty()
                        : java.util.OptionalLong.of(SystemIdentifierOption.parse(systemIdentifier)));
        WalFetchService.Result result = service.fetch(name, destination);
        var err = spec.commandLine().getErr();
        boolean quiet = result.status() == WalFetcher.Status.FETCHED
                && result.lines().stream()
                        .allMatch(l -> l.contains(": fetched ") || l.contains(": served ") || l.endsWith(" not found"));
        // PostgreSQL probes for the next timeline's history on every pass: its absence is normal.
        quiet |= result.status() == WalFetcher.Status.MISSING && name.kind() == WalFileName.Kind.HISTORY;
        if (!quiet) {
            for (String line : result.lines()) {
                err.println("zpitr wal-fetch: " + line);
            }
        }
        int code = switch (result.status()) {
            case FETCHED -> Main.OK;
            case MISSING -> NOT_FOUND;
            case ONLY_BAD_COPIES -> BAD_COPIES;
            case UNAVAILABLE -> NO_SOURCE;
        };
        if (service.staying().isPresent()) {
            // Under bin/zpitr: PostgreSQL gets its answer now; this JVM stays on as the prefetcher.
            err.flush();
            LauncherHandoff.release(code, service.staying().get().log());
            service.staying().get().awaitEnd();
        }
        return code;
    }
}
