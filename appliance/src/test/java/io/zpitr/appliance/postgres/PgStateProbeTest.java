package io.zpitr.appliance.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Which major pg_control's format version names: the fallback when PG_VERSION cannot be read. */
class PgStateProbeTest {
    @Test
    void namesOnlyTheMajorsWhoseControlVersionIsTheirOwn() {
        assertEquals(11, PgStateProbe.majorOfControlVersion(1100));
        assertEquals(12, PgStateProbe.majorOfControlVersion(1201));
        // 13 to 16 all write 1300 (16.4 read here): not a major.
        assertEquals(0, PgStateProbe.majorOfControlVersion(1300));
        assertEquals(17, PgStateProbe.majorOfControlVersion(1700));
        assertEquals(18, PgStateProbe.majorOfControlVersion(1800));
    }

    @Test
    void aStoppedServersMajorComesFromItsControlVersion() {
        String text = """
                pg_control version number:            1800
                Database system identifier:           7580000000000000001
                Latest checkpoint location:           0/3000080
                Latest checkpoint's REDO location:    0/3000028
                Latest checkpoint's TimeLineID:       1
                Latest checkpoint's NextXID:          0:760
                Minimum recovery ending location:     0/0
                """;
        assertEquals(18, PgStateProbe.parseControlData(text).major());
    }
}
