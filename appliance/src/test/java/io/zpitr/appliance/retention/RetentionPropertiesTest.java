// Properties that must hold for any input: random sets, policies, zones and clocks, many near DST changes.
package io.zpitr.appliance.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.retention.RetentionReason.Rule;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.time.zone.ZoneOffsetTransition;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class RetentionPropertiesTest {
    /** Cases per run; {@code -Dzpitr.retention.runs=100000} for a long hunt. */
    private static final int RUNS = Integer.getInteger("zpitr.retention.runs", 300);

    private static final List<ZoneId> ZONES = List.of(
            ZoneId.of("UTC"),
            ZoneId.of("Asia/Singapore"),
            ZoneId.of("Europe/Berlin"),
            ZoneId.of("America/New_York"),
            ZoneId.of("Australia/Lord_Howe"),
            ZoneId.of("America/Sao_Paulo"),
            ZoneId.of("Asia/Kolkata"));
    private static final List<Rule> CLASSES = List.of(Rule.HOURLY, Rule.DAILY, Rule.WEEKLY, Rule.MONTHLY, Rule.YEARLY);

    /** One random case; the seed in every message reproduces it. */
    private record Case(long seed, RetentionPolicy policy, ZoneId zone, Clock clock, List<RetentionCandidate> sets) {
        @Override
        public String toString() {
            return "seed " + seed + ", " + policy + ", " + zone + ", now " + clock.instant() + ", " + sets.size()
                    + " sets";
        }
    }

    @Test
    void everyRandomCaseKeepsTheRules() {
        for (long seed = 0; seed < RUNS; seed++) {
            Case c = randomCase(seed);
            List<RetentionDecision> d = c.policy().decide(c.sets(), c.zone(), c.clock());
            checkShape(c, d);
            checkNewestAndProtection(c, d);
            checkClasses(c, d);
            checkDeterministic(c, d);
        }
    }

    /** One decision per set, newest first; reasons in rule order; a destroyed set has only NOT_KEPT. */
    private static void checkShape(Case c, List<RetentionDecision> d) {
        assertEquals(c.sets().size(), d.size(), c.toString());
        assertEquals(
                new HashSet<>(c.sets()),
                d.stream().map(RetentionDecision::set).collect(Collectors.toSet()),
                c.toString());
        for (int i = 1; i < d.size(); i++) {
            assertTrue(
                    RetentionPolicy.NEWEST_FIRST.compare(
                                    d.get(i - 1).set(), d.get(i).set())
                            < 0,
                    c.toString());
        }
        for (RetentionDecision x : d) {
            List<Rule> rules = x.reasons().stream().map(RetentionReason::rule).toList();
            assertEquals(rules.stream().sorted().distinct().toList(), rules, c + " " + x);
            assertEquals(x.destroy(), rules.equals(List.of(Rule.NOT_KEPT)), c + " " + x);
        }
    }

    /** (1) the newest is kept; (2) no held, cloned, future or keep_within set is destroyed. */
    private static void checkNewestAndProtection(Case c, List<RetentionDecision> d) {
        if (d.isEmpty()) {
            return;
        }
        RetentionCandidate newest = Collections.min(c.sets(), RetentionPolicy.NEWEST_FIRST);
        assertEquals(newest, d.get(0).set(), c.toString());
        assertTrue(d.get(0).kept() && d.get(0).has(Rule.NEWEST), c.toString());
        Instant now = c.clock().instant();
        for (RetentionDecision x : d) {
            RetentionCandidate s = x.set();
            assertEquals(s.held(), x.has(Rule.HELD), c + " " + x);
            assertEquals(s.hasClones(), x.has(Rule.HAS_CLONES), c + " " + x);
            assertEquals(s.created().isAfter(now), x.has(Rule.IN_FUTURE), c + " " + x);
            boolean within = !s.created().isAfter(now)
                    && !c.policy().keepWithin().isZero()
                    && !s.created().isBefore(now.minus(c.policy().keepWithin()));
            assertEquals(within, x.has(Rule.KEEP_WITHIN), c + " " + x);
            if (s.held() || s.hasClones() || s.created().isAfter(now) || within) {
                assertTrue(x.kept(), c + " destroyed " + x);
            }
        }
        if (newest.created().isAfter(now)) {
            List<RetentionDecision> newestPast =
                    d.stream().filter(x -> x.has(Rule.NEWEST_PAST)).toList();
            Set<RetentionCandidate> past =
                    c.sets().stream().filter(s -> !s.created().isAfter(now)).collect(Collectors.toSet());
            assertEquals(
                    past.isEmpty() ? List.of() : List.of(Collections.min(past, RetentionPolicy.NEWEST_FIRST)),
                    newestPast.stream().map(RetentionDecision::set).toList(),
                    c.toString());
        } else {
            assertFalse(d.stream().anyMatch(x -> x.has(Rule.NEWEST_PAST)), c.toString());
        }
    }

    /**
     * (3) each class keeps at most its count, and exactly what a plain group-by says: group the past sets
     * by period, take each group's newest, rank those newest first, keep the first N.
     */
    private static void checkClasses(Case c, List<RetentionDecision> d) {
        Instant now = c.clock().instant();
        List<RetentionCandidate> past =
                c.sets().stream().filter(s -> !s.created().isAfter(now)).toList();
        for (Rule rule : CLASSES) {
            int n = count(c.policy(), rule);
            Set<RetentionCandidate> keptByRule = d.stream()
                    .filter(x -> x.has(rule))
                    .map(RetentionDecision::set)
                    .collect(Collectors.toSet());
            assertTrue(keptByRule.size() <= n, c + ": " + rule + " keeps " + keptByRule.size() + " > " + n);
            Function<Instant, Object> key = periodKey(rule, c.zone());
            Map<Object, RetentionCandidate> newestOfPeriod = new HashMap<>();
            for (RetentionCandidate s : past) {
                newestOfPeriod.merge(
                        key.apply(s.created()), s, (a, b) -> RetentionPolicy.NEWEST_FIRST.compare(a, b) <= 0 ? a : b);
            }
            Set<RetentionCandidate> expected = newestOfPeriod.values().stream()
                    .sorted(RetentionPolicy.NEWEST_FIRST)
                    .limit(n)
                    .collect(Collectors.toSet());
            assertEquals(expected, keptByRule, c + ": " + rule);
        }
    }

    /** (4) the same answer again, and for the input in any order. */
    private static void checkDeterministic(Case c, List<RetentionDecision> d) {
        assertEquals(d, c.policy().decide(c.sets(), c.zone(), c.clock()), c.toString());
        List<RetentionCandidate> shuffled = new ArrayList<>(c.sets());
        Collections.shuffle(shuffled, new Random(c.seed() * 31 + 1));
        assertEquals(d, c.policy().decide(shuffled, c.zone(), c.clock()), c + " shuffled");
        shuffled.sort(Comparator.comparing(RetentionCandidate::created));
        assertEquals(d, c.policy().decide(shuffled, c.zone(), c.clock()), c + " oldest first");
    }

    private static int count(RetentionPolicy p, Rule rule) {
        return switch (rule) {
            case HOURLY -> p.hourly();
            case DAILY -> p.daily();
            case WEEKLY -> p.weekly();
            case MONTHLY -> p.monthly();
            case YEARLY -> p.yearly();
            default -> throw new IllegalArgumentException(rule.toString());
        };
    }

    /** The period of an instant, written independently of {@link CalendarPeriod}: its start (and offset for hours). */
    private static Function<Instant, Object> periodKey(Rule rule, ZoneId zone) {
        return at -> {
            ZonedDateTime z = at.atZone(zone);
            return switch (rule) {
                case HOURLY -> List.of(z.toLocalDateTime().truncatedTo(ChronoUnit.HOURS), z.getOffset());
                case DAILY -> z.toLocalDate();
                case WEEKLY -> z.toLocalDate().with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
                case MONTHLY -> z.toLocalDate().withDayOfMonth(1);
                case YEARLY -> z.toLocalDate().withDayOfYear(1);
                default -> throw new IllegalArgumentException(rule.toString());
            };
        };
    }

    private static Case randomCase(long seed) {
        Random r = new Random(seed);
        ZoneId zone = ZONES.get(r.nextInt(ZONES.size()));
        Instant now = Instant.parse("2015-01-01T00:00:00Z").plusSeconds((long) (r.nextDouble() * 15 * 365 * 86_400));
        if (r.nextBoolean()) {
            // Half the cases sit just after one of the zone's DST changes, so periods around them matter.
            ZoneOffsetTransition next = zone.getRules().nextTransition(now.minus(Duration.ofDays(200)));
            if (next != null) {
                now = next.getInstant().plusSeconds(r.nextInt(3 * 86_400));
            }
        }
        Duration span = switch (r.nextInt(4)) {
            case 0 -> Duration.ofHours(6 + r.nextInt(48));
            case 1 -> Duration.ofDays(2 + r.nextInt(30));
            case 2 -> Duration.ofDays(30 + r.nextInt(400));
            default -> Duration.ofDays(365 + r.nextInt(4 * 365));
        };
        int n = r.nextInt(10) == 0 ? r.nextInt(3) : r.nextInt(400);
        boolean regular = r.nextBoolean();
        List<RetentionCandidate> sets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Instant created;
            if (!sets.isEmpty() && r.nextInt(20) == 0) {
                created = sets.get(r.nextInt(sets.size())).created(); // same instant, another id
            } else if (r.nextInt(25) == 0) {
                created = now.plusSeconds(1 + r.nextInt(30 * 86_400)); // clock skew
            } else if (r.nextInt(50) == 0) {
                created = now;
            } else if (regular) {
                long step = Math.max(1, span.getSeconds() / Math.max(1, n));
                created = now.minusSeconds(step * i + r.nextInt(60));
            } else {
                created = now.minusSeconds((long) (r.nextDouble() * span.getSeconds()));
            }
            sets.add(new RetentionCandidate("s" + i, created, r.nextInt(10) == 0, r.nextInt(20) == 0));
        }
        Duration keepWithin = r.nextInt(3) == 0 ? Duration.ZERO : Duration.ofMinutes(1 + r.nextInt(4 * 24 * 60));
        RetentionPolicy policy = new RetentionPolicy(
                keepWithin, randomCount(r), randomCount(r), randomCount(r), randomCount(r), randomCount(r));
        return new Case(seed, policy, zone, Clock.fixed(now, ZoneOffset.UTC), sets);
    }

    private static int randomCount(Random r) {
        return r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(r.nextBoolean() ? 5 : 40);
    }

    @Test
    void theOracleWeeksAgreeWithIsoWeekLabels() {
        // Guards the oracle itself: Monday-start weeks are ISO weeks, across a 53-week year.
        for (LocalDate day = LocalDate.of(2025, 12, 20);
                day.isBefore(LocalDate.of(2027, 1, 20));
                day = day.plusDays(1)) {
            LocalDate monday = day.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
            assertEquals(
                    CalendarPeriod.WEEK.label(monday.atStartOfDay(ZoneOffset.UTC)),
                    CalendarPeriod.WEEK.label(day.atStartOfDay(ZoneOffset.UTC)),
                    day.toString());
        }
    }
}
