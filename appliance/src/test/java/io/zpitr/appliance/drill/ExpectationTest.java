package io.zpitr.appliance.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zpitr.appliance.config.ConfigException;
import org.junit.jupiter.api.Test;

/** Drill check expectations: the forms accepted, numbers compared as numbers, anything else refused with a hint. */
class ExpectationTest {
    @Test
    void numbersCompareAsNumbers() {
        assertTrue(Expectation.parse("> 0").test("1"));
        assertFalse(Expectation.parse("> 0").test("0"));
        assertTrue(Expectation.parse(">= 10").test("10"));
        assertTrue(Expectation.parse("> 9").test("10"), "10 is more than 9, not less as text");
        assertTrue(Expectation.parse("= 1.50").test("1.5"));
        assertTrue(Expectation.parse("<> 3").test("4"));
        assertTrue(Expectation.parse("<=-1").test("-2"));
        assertFalse(Expectation.parse("> 0").test(null), "NULL meets no comparison");
    }

    @Test
    void quotedValuesCompareAsText() {
        assertTrue(Expectation.parse("= 'ok'").test("ok"));
        assertFalse(Expectation.parse("= 'ok'").test("OK"));
        assertTrue(Expectation.parse("!= 'failed'").test("ok"));
        assertTrue(Expectation.parse("= 'it''s'").test("it's"));
        assertTrue(Expectation.parse("= ''").test(""));
    }

    @Test
    void nullTests() {
        assertTrue(Expectation.parse("is null").test(null));
        assertTrue(Expectation.parse("IS NOT  NULL").test(""));
        assertFalse(Expectation.parse("is not null").test(null));
    }

    @Test
    void unknownFormsAreRefusedWithAHint() {
        for (String bad : new String[] {"", "0", "~ 'x'", "> zero", "= 'unclosed", "between 1 and 2", "> 1 2"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> Expectation.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("unknown check expectation"), e.getMessage());
            assertTrue(e.getMessage().contains("HINT:"), e.getMessage());
        }
        assertThrows(ConfigException.class, () -> Expectation.parse(null));
    }

    @Test
    void aNumberExpectedAndTextReturnedIsSaidPlainly() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> Expectation.parse("> 0").test("many"));
        assertEquals("the query returned 'many', not a number, for \"> 0\"", e.getMessage());
    }
}
