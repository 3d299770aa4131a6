package io.zpitr.appliance.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WatchdogTest {
    @Test
    void pingsAtHalfTheIntervalSystemdAskedForThisProcess() {
        assertEquals(Optional.of(Duration.ofSeconds(15)), Watchdog.interval(Map.of("WATCHDOG_USEC", "30000000"), 42));
        assertEquals(
                Optional.of(Duration.ofSeconds(15)),
                Watchdog.interval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "42"), 42));
    }

    @Test
    void staysSilentWhenNotAskedOrAskedForAnotherProcess() {
        assertEquals(Optional.empty(), Watchdog.interval(Map.of(), 42));
        assertEquals(Optional.empty(), Watchdog.interval(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "7"), 42));
        assertEquals(Optional.empty(), Watchdog.interval(Map.of("WATCHDOG_USEC", "0"), 42));
        assertEquals(Optional.empty(), Watchdog.interval(Map.of("WATCHDOG_USEC", "soon"), 42));
    }
}
