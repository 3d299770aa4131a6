// Synthetic snapshot sets and views of retention's answer, for the retention tests.
package io.zpitr.appliance.retention;

import io.zpitr.appliance.retention.RetentionReason.Rule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

final class Series {
    private Series() {}

    static Instant t(String iso) {
        return Instant.parse(iso);
    }

    static Clock clockAt(String iso) {
        return Clock.fixed(t(iso), ZoneOffset.UTC);
    }

    static RetentionCandidate set(String iso) {
        return RetentionCandidate.of(iso, t(iso));
    }

    /** One unprotected set every {@code step} from {@code first} to {@code last}, both included; the id is the time. */
    static List<RetentionCandidate> every(Duration step, String first, String last) {
        List<RetentionCandidate> sets = new ArrayList<>();
        for (Instant at = t(first); !at.isAfter(t(last)); at = at.plus(step)) {
            sets.add(RetentionCandidate.of(at.toString(), at));
        }
        return sets;
    }

    static RetentionPolicy only(Rule rule, int count) {
        return new RetentionPolicy(
                Duration.ZERO,
                rule == Rule.HOURLY ? count : 0,
                rule == Rule.DAILY ? count : 0,
                rule == Rule.WEEKLY ? count : 0,
                rule == Rule.MONTHLY ? count : 0,
                rule == Rule.YEARLY ? count : 0);
    }

    /** The creation times of the sets {@code rule} keeps, newest first. */
    static List<Instant> keptBy(List<RetentionDecision> decisions, Rule rule) {
        return decisions.stream()
                .filter(d -> d.has(rule))
                .map(RetentionDecision::created)
                .toList();
    }

    /** The texts of {@code rule}'s reasons, newest set first. */
    static List<String> texts(List<RetentionDecision> decisions, Rule rule) {
        return decisions.stream()
                .flatMap(d -> d.reasons().stream())
                .filter(r -> r.rule() == rule)
                .map(RetentionReason::text)
                .toList();
    }

    static List<Instant> kept(List<RetentionDecision> decisions) {
        return decisions.stream()
                .filter(RetentionDecision::kept)
                .map(RetentionDecision::created)
                .toList();
    }

    static List<Instant> instants(String... iso) {
        return Arrays.stream(iso).map(Instant::parse).toList();
    }
}
