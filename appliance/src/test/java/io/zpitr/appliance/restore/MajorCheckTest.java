package io.zpitr.appliance.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** How MajorCheck reads a major from {@code postgres --version} and from {@code server_version_num}. */
class MajorCheckTest {
    @Test
    void readsTheMajorOfWhatPostgresPrints() {
        assertEquals(
                OptionalInt.of(15),
                MajorCheck.majorOfVersionText("postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"));
        assertEquals(OptionalInt.of(11), MajorCheck.majorOfVersionText("postgres (PostgreSQL) 11.22"));
        assertEquals(OptionalInt.of(18), MajorCheck.majorOfVersionText("postgres (PostgreSQL) 18.1"));
        assertEquals(OptionalInt.of(18), MajorCheck.majorOfVersionText("postgres (PostgreSQL) 18beta1"));
        assertEquals(OptionalInt.of(906), MajorCheck.majorOfVersionText("postgres (PostgreSQL) 9.6.24"));
        assertEquals(OptionalInt.empty(), MajorCheck.majorOfVersionText("postgres (PostgreSQL) 9beta"));
        assertEquals(OptionalInt.empty(), MajorCheck.majorOfVersionText("bash: postgres: command not found"));
    }

    @Test
    void readsTheMajorOfAServerVersionNumber() {
        assertEquals(16, MajorCheck.majorOfVersionNum(160004));
        assertEquals(11, MajorCheck.majorOfVersionNum(110022));
        assertEquals(18, MajorCheck.majorOfVersionNum(180001));
        assertEquals(906, MajorCheck.majorOfVersionNum(90624));
    }
}
