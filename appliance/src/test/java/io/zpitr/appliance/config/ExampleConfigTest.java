package io.zpitr.appliance.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** config/zpitr.example.yaml shows every key the code accepts, each with a comment, and loads. */
class ExampleConfigTest {
    static final Path EXAMPLE = Path.of("..", "config", "zpitr.example.yaml");

    @Test
    void everyAcceptedKeyIsInTheExample() throws Exception {
        JsonNode example = new ObjectMapper(new YAMLFactory()).readTree(EXAMPLE.toFile());
        List<String> missing = new ArrayList<>();
        walk(ZpitrConfig.class, example, "", missing);
        assertEquals(List.of(), missing, "keys the code accepts but the example does not show");
    }

    @Test
    void everySectionIsCommented() throws Exception {
        String text = Files.readString(EXAMPLE);
        for (String section : List.of(
                "timezone:",
                "state_dir:",
                "zfs:",
                "postgres:",
                "archive:",
                "schedule:",
                "retention:",
                "restore:",
                "audit:")) {
            assertTrue(text.lines().anyMatch(l -> l.startsWith(section)), section);
        }
        long keyLines = text.lines().filter(l -> l.matches("\\s*[a-z_]+:.*")).count();
        long commented =
                text.lines().filter(l -> l.matches("\\s*[a-z_]+:.*#.*")).count();
        assertTrue(commented * 2 >= keyLines, "most key lines carry a comment: " + commented + " of " + keyLines);
    }

    @Test
    void theExampleLoads() {
        ConfigLoader.load(EXAMPLE);
    }

    private static void walk(Class<?> type, JsonNode node, String path, List<String> missing) {
        for (RecordComponent c : type.getRecordComponents()) {
            JsonProperty renamed = c.getAccessor().getAnnotation(JsonProperty.class);
            if (renamed == null) {
                renamed = findOnField(type, c.getName());
            }
            String key = renamed != null ? renamed.value() : c.getName();
            String here = path.isEmpty() ? key : path + "." + key;
            JsonNode child = node == null ? null : node.get(key);
            if (child == null) {
                missing.add(here);
                continue;
            }
            Class<?> t = c.getType();
            if (t.isRecord()) {
                walk(t, child, here, missing);
            } else if (List.class.isAssignableFrom(t)) {
                Type arg = ((ParameterizedType) c.getGenericType()).getActualTypeArguments()[0];
                if (arg instanceof Class<?> element && element.isRecord()) {
                    List<String> perElement = new ArrayList<>();
                    // A key counts as shown if any element of the example list shows it.
                    for (JsonNode e : child) {
                        List<String> m = new ArrayList<>();
                        walk(element, e, here + "[]", m);
                        perElement.addAll(m);
                    }
                    for (String k : perElement.stream().distinct().toList()) {
                        if (perElement.stream().filter(k::equals).count() == child.size()) {
                            missing.add(k);
                        }
                    }
                }
            }
        }
    }

    private static JsonProperty findOnField(Class<?> type, String name) {
        try {
            for (var p : type.getDeclaredConstructors()[0].getParameters()) {
                if (p.getName().equals(name)) {
                    return p.getAnnotation(JsonProperty.class);
                }
            }
        } catch (SecurityException e) {
            return null;
        }
        return null;
    }
}
