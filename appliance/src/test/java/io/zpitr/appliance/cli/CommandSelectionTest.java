// Main builds only the subcommand a command line names; help, errors and the man page still see all of them.
package io.zpitr.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CommandSelectionTest {

    @Test
    void aNamedCommandIsTheOnlyOneBuilt() {
        assertEquals(List.of(RestoreCommand.class), Main.commandsFor(new String[] {"restore", "--immediate"}));
        assertEquals(
                List.of(RestoreCommand.class),
                Main.commandsFor(new String[] {"--config", "/etc/zpitr/x.yaml", "restore", "--latest"}));
        assertEquals(List.of(RestoresCommand.class), Main.commandsFor(new String[] {"--config=/x.yaml", "restores"}));
        assertEquals(List.of(WalFetchCommand.class), Main.commandsFor(new String[] {"wal-fetch", "a", "b"}));
    }

    @Test
    void noneHelpOrAnUnknownOneBuildsThemAll() {
        assertEquals(Main.COMMANDS, Main.commandsFor(new String[] {}));
        assertEquals(Main.COMMANDS, Main.commandsFor(new String[] {"--help"}));
        assertEquals(Main.COMMANDS, Main.commandsFor(new String[] {"help", "restore"}));
        assertEquals(Main.COMMANDS, Main.commandsFor(new String[] {"restroe"}));
        // "--config restore": restore is the config file's name there, not a command.
        assertEquals(Main.COMMANDS, Main.commandsFor(new String[] {"--config", "restore"}));
    }

    @Test
    void theFullTreeIsWhatTheHelpAndTheManPageSee() {
        CommandLine all = new CommandLine(new Main.All());
        assertEquals("zpitr", all.getCommandName());
        assertEquals(Main.COMMANDS.size(), all.getSubcommands().size());
        assertTrue(all.getSubcommands().containsKey("restore-drop"));
        // The exit codes and version option come from Main itself.
        assertTrue(all.getCommandSpec().mixinStandardHelpOptions());
    }

    @Test
    void aMistypedCommandIsStillAnsweredWithTheNearestOnes() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"restroe"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("Did you mean: zpitr restores or zpitr restore"), err.toString());
    }
}
