// The error catalog against what users read: docs/exit-codes.md, --help's exit codes, and the printed error.
package io.zpitr.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.error.ZpitrError;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ErrorCatalogTest {

    /** The catalog as docs/exit-codes.md must show it. */
    static String catalogTable() {
        StringBuilder b = new StringBuilder("| error | exit | meaning | what to do |\n|---|---|---|---|\n");
        for (ZpitrError e : ZpitrError.values()) {
            b.append("| `")
                    .append(e.code())
                    .append("` | ")
                    .append(e.exitStatus())
                    .append(" | ")
                    .append(e.meaning())
                    .append(" | ")
                    .append(e.hint())
                    .append(" |\n");
        }
        return b.toString();
    }

    @Test
    void docsListEveryCatalogEntryWordForWord() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "exit-codes.md"), StandardCharsets.UTF_8);
        String expected = catalogTable();
        assertTrue(doc.contains(expected), "docs/exit-codes.md must hold the catalog's table; expected:\n" + expected);
    }

    @Test
    void helpListsTheCatalogsExitStatuses() {
        String[] annotated = Main.class.getAnnotation(CommandLine.Command.class).exitCodeList();
        List<String> fromCatalog = new ArrayList<>();
        ZpitrError.EXIT_STATUS.forEach((status, meaning) -> fromCatalog.add(status + ":" + meaning));
        assertEquals(fromCatalog, List.of(annotated));
    }

    @Test
    void everyEntryHasAUniqueCodeAndAMeaning() {
        List<String> codes = new ArrayList<>();
        for (ZpitrError e : ZpitrError.values()) {
            assertFalse(codes.contains(e.code()), e.code());
            codes.add(e.code());
            assertFalse(e.meaning().isBlank(), e.code());
            assertTrue(e.code().matches("[a-z]+(-[a-z]+)*"), e.code());
        }
    }

    @Test
    void aDamagedNumberIsNotAUsageError() {
        // Long.parseLong of a damaged zpitr: property used to exit 2, as if the user had mistyped.
        assertEquals(ZpitrError.INTERNAL, Main.classify(new NumberFormatException("For input string: \"x\"")));
        assertEquals(1, Main.exitCode(new IllegalArgumentException("a bug")));
        assertEquals(2, Main.exitCode(new ConfigException("bad key")));
        assertEquals(3, Main.exitCode(ZpitrError.NOT_RESTORABLE.exception("no WAL")));
    }

    @Test
    void anUnexpectedErrorIsOneLineUnlessDebugging() {
        IllegalStateException bug = new IllegalStateException("first line\nsecond line");
        StringWriter quiet = new StringWriter();
        Main.report(bug, new PrintWriter(quiet, true), Map.of());
        List<String> lines = quiet.toString().lines().toList();
        assertEquals("zpitr: [internal] unexpected java.lang.IllegalStateException: first line", lines.get(0));
        assertEquals("HINT: " + ZpitrError.INTERNAL.hint(), lines.get(1));
        assertEquals(2, lines.size(), quiet.toString());

        StringWriter debug = new StringWriter();
        Main.report(bug, new PrintWriter(debug, true), Map.of("ZPITR_LOG_LEVEL", "debug"));
        assertTrue(debug.toString().contains("\tat io.zpitr.appliance.cli.ErrorCatalogTest"), debug.toString());
    }

    @Test
    void aCatalogErrorPrintsItsCodeAndItsOwnHint(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("zpitr.yaml");
        Files.writeString(config, "timezone: Mars/Olympus\n", StandardCharsets.UTF_8);
        ZpitrRun r = ZpitrRun.withConfig(config, "list");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("zpitr: [config-invalid] config " + config.toAbsolutePath()), r.err());
        assertTrue(r.err().contains("HINT: "), r.err());
    }
}
