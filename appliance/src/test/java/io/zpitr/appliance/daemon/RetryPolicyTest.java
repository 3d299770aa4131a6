package io.zpitr.appliance.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    @Test
    void theDefaultRetriesAfterOneFiveAndFifteenMinutesThenWaitsForTheSchedule() {
        RetryPolicy p = RetryPolicy.DEFAULT;
        assertEquals(3, p.retries());
        assertEquals(Optional.of(Duration.ofMinutes(1)), p.after(0));
        assertEquals(Optional.of(Duration.ofMinutes(5)), p.after(1));
        assertEquals(Optional.of(Duration.ofMinutes(15)), p.after(2));
        assertEquals(Optional.empty(), p.after(3));
    }

    @Test
    void noDelaysMeansNoRetriesAndNegativeDelaysAreRefused() {
        assertEquals(Optional.empty(), new RetryPolicy(List.of()).after(0));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(List.of(Duration.ofSeconds(-1))));
    }
}
