// One line of the audit log, and the exact JSON form it is written in and read back from.
package io.zpitr.appliance.audit;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One audit event as stored: a single line of JSON with the fields, in this order,
 * {@code time} (UTC, ISO-8601 with milliseconds), {@code event}, {@code actor}
 * ({@code user}, {@code pid}, {@code host}, and {@code sudo_user} when run through sudo),
 * {@code command} (zpitr's arguments as given, an array of strings), {@code outcome}
 * ({@code ok} or {@code failed}), {@code details} (an object), {@code seq} (the line number,
 * from 1: it tells a removed line from a changed one) and {@code prev} (the SHA-256, in hex, of
 * the previous line's exact bytes without its newline; 64 zeros on the first line).
 *
 * @param details free-form; treat it as read-only
 */
public record AuditRecord(
        Instant time,
        String event,
        Actor actor,
        List<String> command,
        Outcome outcome,
        ObjectNode details,
        long seq,
        String prev) {
    /** The {@code prev} of the first line. */
    public static final String FIRST_PREV = "0".repeat(64);

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final Pattern TIME_TEXT = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");
    private static final Pattern EVENT = Pattern.compile("[a-z][a-z0-9_]{0,63}");
    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    public AuditRecord {
        time = Objects.requireNonNull(time, "time").truncatedTo(ChronoUnit.MILLIS); // what the line holds
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(outcome, "outcome");
        command = List.copyOf(command);
        details = details == null ? JsonNodeFactory.instance.objectNode() : details;
        if (!EVENT.matcher(event).matches()) {
            throw new IllegalArgumentException("event '" + event + "' must be lowercase letters, digits and _");
        }
        if (seq < 1) {
            throw new IllegalArgumentException("seq must be 1 or more, not " + seq);
        }
        if (!HASH.matcher(prev).matches()) {
            throw new IllegalArgumentException("prev must be 64 lowercase hex digits");
        }
    }

    /** The time as written: UTC with milliseconds, e.g. {@code 2026-11-20T04:01:00.123Z}. */
    public String timeText() {
        return TIME.format(time);
    }

    /** The details as {@code key=value} pairs on one line, for tables. */
    public String detailsText() {
        StringBuilder text = new StringBuilder();
        details.fields().forEachRemaining(e -> {
            if (text.length() > 0) {
                text.append(' ');
            }
            JsonNode v = e.getValue();
            String value = v.isTextual() ? v.textValue() : v.toString(); // compact JSON for the rest
            if (v.isTextual() && (value.isEmpty() || value.chars().anyMatch(c -> c <= ' ' || c == '"'))) {
                value = v.toString(); // quoted and escaped: stays one line, and spaces can't blur pairs
            }
            text.append(e.getKey()).append('=').append(value);
        });
        return text.toString();
    }

    /** The exact bytes of this record's line, without the newline. */
    byte[] toLine() {
        ObjectNode line = JsonNodeFactory.instance.objectNode();
        line.put("time", timeText());
        line.put("event", event);
        ObjectNode who = line.putObject("actor");
        who.put("user", actor.user());
        who.put("pid", actor.pid());
        who.put("host", actor.host());
        if (actor.sudoUser() != null) {
            who.put("sudo_user", actor.sudoUser());
        }
        ArrayNode argv = line.putArray("command");
        command.forEach(argv::add);
        line.put("outcome", outcome.wireName());
        line.set("details", details);
        line.put("seq", seq);
        line.put("prev", prev);
        try {
            return JSON.writeValueAsBytes(line); // compact: control characters are escaped, so one line
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write an audit record as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads one line (without its newline).
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    static AuditRecord parse(byte[] line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (java.io.IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new IllegalArgumentException(
                    "not valid JSON (" + why.lines().findFirst().orElse("") + ")");
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        String timeText = text(node, "time");
        if (!TIME_TEXT.matcher(timeText).matches()) {
            throw new IllegalArgumentException("'time' is not a UTC time with milliseconds: '" + timeText + "'");
        }
        Instant time;
        try {
            time = Instant.parse(timeText);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'time' is not a valid time: '" + timeText + "'");
        }
        JsonNode who = node.get("actor");
        if (who == null || !who.isObject()) {
            throw new IllegalArgumentException("'actor' is missing or not an object");
        }
        JsonNode pid = who.get("pid");
        if (pid == null || !pid.canConvertToExactIntegral() || !pid.isIntegralNumber()) {
            throw new IllegalArgumentException("'actor.pid' is missing or not a number");
        }
        JsonNode sudo = who.get("sudo_user");
        if (sudo != null && !sudo.isTextual()) {
            throw new IllegalArgumentException("'actor.sudo_user' is not a string");
        }
        Actor actor = new Actor(
                text(who, "user"), pid.longValue(), text(who, "host"), sudo == null ? null : sudo.textValue());
        JsonNode argv = node.get("command");
        if (argv == null || !argv.isArray()) {
            throw new IllegalArgumentException("'command' is missing or not an array");
        }
        List<String> command = new ArrayList<>();
        for (JsonNode arg : argv) {
            if (!arg.isTextual()) {
                throw new IllegalArgumentException("'command' holds something other than strings");
            }
            command.add(arg.textValue());
        }
        JsonNode details = node.get("details");
        if (details == null || !details.isObject()) {
            throw new IllegalArgumentException("'details' is missing or not an object");
        }
        JsonNode seq = node.get("seq");
        if (seq == null || !seq.isIntegralNumber() || !seq.canConvertToLong() || seq.longValue() < 1) {
            throw new IllegalArgumentException("'seq' is missing or not a positive whole number");
        }
        String prev = text(node, "prev");
        if (!HASH.matcher(prev).matches()) {
            throw new IllegalArgumentException("'prev' is not 64 lowercase hex digits");
        }
        String event = text(node, "event");
        if (!EVENT.matcher(event).matches()) {
            throw new IllegalArgumentException("'event' is not a lowercase name: '" + event + "'");
        }
        return new AuditRecord(
                time,
                event,
                actor,
                command,
                Outcome.ofWireName(text(node, "outcome")),
                (ObjectNode) details,
                seq.longValue(),
                prev);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("'" + field + "' is missing or not a string");
        }
        return v.textValue();
    }

    /**
     * Details as JSON, in the map's order. Strings, numbers, booleans, null, maps and collections
     * keep their JSON types; anything else is written as its {@code toString()} (so a Path is its
     * path and an Instant its ISO text, not whatever a serializer would make of them).
     */
    static ObjectNode detailsOf(Map<String, ?> details) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        if (details != null) {
            details.forEach((k, v) -> node.set(Objects.requireNonNull(k, "a details key is null"), json(v)));
        }
        return node;
    }

    private static JsonNode json(Object v) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (v == null) {
            return f.nullNode();
        } else if (v instanceof JsonNode n) {
            return n.deepCopy();
        } else if (v instanceof String s) {
            return f.textNode(s);
        } else if (v instanceof Boolean b) {
            return f.booleanNode(b);
        } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return f.numberNode(((Number) v).longValue());
        } else if (v instanceof java.math.BigInteger n) {
            return f.numberNode(n);
        } else if (v instanceof java.math.BigDecimal n) {
            return f.numberNode(n);
        } else if ((v instanceof Double || v instanceof Float) && Double.isFinite(((Number) v).doubleValue())) {
            return f.numberNode(((Number) v).doubleValue());
        } else if (v instanceof Map<?, ?> m) {
            ObjectNode o = f.objectNode();
            m.forEach((k, x) -> o.set(String.valueOf(k), json(x)));
            return o;
        } else if (v instanceof Collection<?> c) {
            ArrayNode a = f.arrayNode();
            c.forEach(x -> a.add(json(x)));
            return a;
        }
        return f.textNode(v.toString());
    }

    /** SHA-256 of {@code bytes}, lowercase hex: what the next line's {@code prev} holds. */
    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
