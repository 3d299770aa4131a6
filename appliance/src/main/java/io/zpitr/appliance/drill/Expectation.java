// A drill check's expectation, such as "> 0" or "= 'ok'": parsed once, then applied to the value a query returned.
package io.zpitr.appliance.drill;

import io.zpitr.appliance.config.ConfigException;
import java.math.BigDecimal;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An operator and a value. A quoted value ({@code 'ok'}, with {@code ''} for a quote inside) is
 * compared as text; an unquoted one must be a number and is compared as a number, so {@code 10}
 * is more than {@code 9}, as in SQL. {@code is null} and {@code is not null} test for SQL NULL.
 * Anything else is refused when the configuration is read, never at the end of a drill.
 */
public record Expectation(String text, Operator operator, String value, boolean numeric) {
    /** The comparisons a check may ask for. */
    public enum Operator {
        EQ("="),
        NE("!="),
        LT("<"),
        LE("<="),
        GT(">"),
        GE(">="),
        IS_NULL("is null"),
        IS_NOT_NULL("is not null");

        private final String symbol;

        Operator(String symbol) {
            this.symbol = symbol;
        }

        public String symbol() {
            return symbol;
        }
    }

    private static final Pattern FORM = Pattern.compile("\\s*(=|==|!=|<>|<=|>=|<|>)\\s*(.+?)\\s*");
    private static final Pattern QUOTED = Pattern.compile("'((?:[^']|'')*)'");

    /**
     * @throws ConfigException naming the expectation and the forms it may take
     */
    public static Expectation parse(String text) {
        if (text == null || text.isBlank()) {
            throw refused(text, "it is empty");
        }
        String lower = text.strip().toLowerCase(java.util.Locale.ROOT).replaceAll("\\s+", " ");
        if (lower.equals("is null")) {
            return new Expectation(text.strip(), Operator.IS_NULL, null, false);
        }
        if (lower.equals("is not null")) {
            return new Expectation(text.strip(), Operator.IS_NOT_NULL, null, false);
        }
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            throw refused(text, "it does not start with a comparison");
        }
        Operator op = switch (m.group(1)) {
            case "=", "==" -> Operator.EQ;
            case "!=", "<>" -> Operator.NE;
            case "<" -> Operator.LT;
            case "<=" -> Operator.LE;
            case ">" -> Operator.GT;
            default -> Operator.GE;
        };
        String operand = m.group(2);
        Matcher q = QUOTED.matcher(operand);
        if (q.matches()) {
            return new Expectation(text.strip(), op, q.group(1).replace("''", "'"), false);
        }
        try {
            new BigDecimal(operand);
        } catch (NumberFormatException e) {
            throw refused(text, "'" + operand + "' is neither a number nor a quoted text");
        }
        return new Expectation(text.strip(), op, operand, true);
    }

    private static ConfigException refused(String text, String why) {
        return new ConfigException(
                "unknown check expectation \"" + text + "\": " + why
                        + "\nHINT: write a comparison and a number or a quoted text: > 0, >= 100, = 'ok', != 'failed', is not null");
    }

    /**
     * Whether the value a query returned meets this expectation.
     *
     * @param actual the value as text, or null for SQL NULL
     * @throws IllegalArgumentException when a number was expected and the value is not one
     */
    public boolean test(String actual) {
        if (operator == Operator.IS_NULL) {
            return actual == null;
        }
        if (operator == Operator.IS_NOT_NULL) {
            return actual != null;
        }
        if (actual == null) {
            return false; // as in SQL: NULL compares with nothing
        }
        int c;
        if (numeric) {
            BigDecimal a;
            try {
                a = new BigDecimal(actual.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "the query returned '" + actual + "', not a number, for \"" + text + "\"");
            }
            c = a.compareTo(new BigDecimal(value));
        } else {
            c = actual.compareTo(value);
        }
        return switch (operator) {
            case EQ -> c == 0;
            case NE -> c != 0;
            case LT -> c < 0;
            case LE -> c <= 0;
            case GT -> c > 0;
            default -> c >= 0;
        };
    }
}
