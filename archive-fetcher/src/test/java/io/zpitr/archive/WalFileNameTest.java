// Proves WalFileName accepts exactly the names PostgreSQL passes in %f and refuses everything else.
package io.zpitr.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class WalFileNameTest {
    @ParameterizedTest(name = "{0} is a {1}")
    @CsvSource({
        "000000010000000000000003, SEGMENT, 1, 0000000000000003",
        "0000000A00000001000000FF, SEGMENT, 10, 00000001000000FF",
        "FFFFFFFFFFFFFFFFFFFFFFFF, SEGMENT, 4294967295, FFFFFFFFFFFFFFFF",
        "000000010000000000000003.00000028.backup, BACKUP, 1, 0000000000000003",
        "000000020000000000000005.partial, PARTIAL, 2, 0000000000000005",
    })
    void acceptsSegmentBasedNames(String name, WalFileName.Kind kind, long timeline, String logAndSegment) {
        WalFileName parsed = WalFileName.of(name);
        assertEquals(name, parsed.name());
        assertEquals(name, parsed.toString());
        assertEquals(kind, parsed.kind());
        assertEquals(timeline, parsed.timeline());
        assertEquals(logAndSegment, parsed.logAndSegment());
    }

    @Test
    void acceptsHistoryNamesWhichHaveNoSegment() {
        WalFileName history = WalFileName.of("0000000C.history");
        assertEquals(WalFileName.Kind.HISTORY, history.kind());
        assertEquals(12, history.timeline());
        IllegalStateException e = assertThrows(IllegalStateException.class, history::logAndSegment);
        assertTrue(e.getMessage().contains("0000000C.history"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                " ",
                "00000001000000000000000",
                "0000000100000000000000030",
                "000000010000000000000003 ",
                "000000010000000000000003\n",
                "00000001000000000000000g",
                "00000001000000000000000a",
                "../../etc/passwd",
                "pg_wal/000000010000000000000003",
                "/000000010000000000000003",
                "00000001.History",
                "1.history",
                "00000001.history.tmp",
                "000000010000000000000003.backup",
                "000000010000000000000003.0000028.backup",
                "000000010000000000000003.PARTIAL",
                "RECOVERYXLOG",
                "000000010000000000000003;rm -rf /",
                "archive_status",
                "000000010000000000000003.ready",
            })
    void refusesEverythingElse(String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WalFileName.of(name));
        assertTrue(e.getMessage().contains("is not a WAL file name\nHINT: "), e.getMessage());
    }

    @Test
    void refusesNull() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WalFileName.of(null));
        assertTrue(e.getMessage().startsWith("'null' is not a WAL file name"), e.getMessage());
    }

    @Test
    void aRefusalQuotesTheNameWithoutControlCharactersAndShortened() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> WalFileName.of("bad\nname\u001b[31m"));
        assertTrue(e.getMessage().startsWith("'bad?name?[31m' is not a WAL file name"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> WalFileName.of("x".repeat(500)));
        String quoted = e.getMessage().substring(0, e.getMessage().indexOf(" is not"));
        assertTrue(quoted.length() < 100 && quoted.endsWith("...'"), quoted);
    }

    @Test
    void equalityAndOrderFollowTheName() {
        WalFileName a = WalFileName.of("000000010000000000000003");
        assertEquals(a, WalFileName.of("000000010000000000000003"));
        assertEquals(a.hashCode(), WalFileName.of("000000010000000000000003").hashCode());
        assertNotEquals(a, WalFileName.of("000000010000000000000004"));
        assertFalse(a.equals("000000010000000000000003"));

        TreeSet<WalFileName> sorted = new TreeSet<>(List.of(
                WalFileName.of("000000020000000000000001"),
                WalFileName.of("000000010000000000000010"),
                WalFileName.of("000000010000000000000003")));
        assertEquals(
                List.of("000000010000000000000003", "000000010000000000000010", "000000020000000000000001"),
                sorted.stream().map(WalFileName::name).toList());
    }
}
