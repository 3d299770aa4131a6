package io.zpitr.zfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NamesTest {
    @ParameterizedTest
    @ValueSource(strings = {"tank", "tank/pg/data", "pool1/pg_15/data-1", "t/a.b:c", "Tank9/x"})
    void acceptsValidDatasetNames(String name) {
        assertEquals(name, DatasetName.of(name).full());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "tank/",
                "/tank",
                "tank//a",
                "tank/../etc",
                "tank/.",
                "tank/a b",
                "tank/a\tb",
                "tank/a;rm -rf /",
                "tank/$(id)",
                "tank/`id`",
                "tank/a|b",
                "tank/a&b",
                "tank/a>b",
                "tank/a'b",
                "tank/a\"b",
                "tank/a\nb",
                "tank/-o",
                "-tank",
                "9tank",
                "mirror/a",
                "c0t0d0",
                "tank/a@b",
                "tank/a#b",
                "tank/é",
                "tank/a\\b",
                "tank/*"
            })
    void refusesInvalidDatasetNames(String name) {
        InvalidNameException e = assertThrows(InvalidNameException.class, () -> DatasetName.of(name));
        assertTrue(e.getMessage().startsWith("invalid dataset name"), e.getMessage());
    }

    @Test
    void refusesOverlongNames() {
        assertThrows(InvalidNameException.class, () -> DatasetName.of("t/" + "a".repeat(254)));
    }

    @Test
    void explainsTheOffendingCharacter() {
        InvalidNameException e = assertThrows(InvalidNameException.class, () -> DatasetName.of("tank/a;b"));
        assertTrue(e.getMessage().contains("';'"), e.getMessage());
        e = assertThrows(InvalidNameException.class, () -> DatasetName.of("tank/a b"));
        assertTrue(e.getMessage().contains("U+0020"), e.getMessage());
    }

    @Test
    void snapshotNamesParseBack() {
        SnapshotName s = SnapshotName.parse("tank/pg/data@zpitr-20261120T040100Z-nightly");
        assertEquals(DatasetName.of("tank/pg/data"), s.dataset());
        assertEquals("zpitr-20261120T040100Z-nightly", s.shortName());
        assertEquals("tank/pg/data@zpitr-20261120T040100Z-nightly", s.full());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"tank", "tank@", "@s", "tank@a@b", "tank@a b", "tank@..", "tank@-r", "tank@$(x)", "tank@a/b"})
    void refusesInvalidSnapshotNames(String name) {
        assertThrows(InvalidNameException.class, () -> SnapshotName.parse(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-f", "a b", "legal;hold", "x\n", "é"})
    void refusesInvalidHoldTags(String tag) {
        assertThrows(InvalidNameException.class, () -> HoldTag.of(tag));
    }

    @Test
    void acceptsHoldTags() {
        assertEquals(
                "zpitr-legal:2026.q4_x", HoldTag.of("zpitr-legal:2026.q4_x").value());
    }

    @Test
    void userPropertyNamesNeedANamespace() {
        assertEquals("zpitr:redo_lsn", UserProperty.checkName("zpitr:redo_lsn"));
        assertThrows(InvalidNameException.class, () -> UserProperty.checkName("redo"));
        assertThrows(InvalidNameException.class, () -> UserProperty.checkName("ZPITR:x"));
        assertThrows(InvalidNameException.class, () -> UserProperty.checkName("zpitr:a=b"));
        assertThrows(IllegalArgumentException.class, () -> UserProperty.checkValue("zpitr:x", "a\nb"));
        assertThrows(IllegalArgumentException.class, () -> UserProperty.checkValue("zpitr:x", "a\tb"));
    }

    @Test
    void ancestry() {
        DatasetName a = DatasetName.of("tank/pg/data");
        DatasetName b = DatasetName.of("tank/pg/tblspc1");
        assertEquals(Optional.of(DatasetName.of("tank/pg")), a.commonAncestor(b));
        assertEquals(Optional.empty(), a.commonAncestor(DatasetName.of("other/pg")));
        assertTrue(DatasetName.of("tank/pg").contains(a));
        assertFalse(DatasetName.of("tank/p").contains(a));
        assertEquals(Optional.of(DatasetName.of("tank/pg")), a.parent());
        assertEquals("data", a.leaf());
    }
}
