// Reads and validates the YAML configuration; every refusal names the file, the line and the key.
package io.zpitr.appliance.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Finds the configuration ({@code --config}, else {@code $ZPITR_CONFIG}, else
 * {@code /etc/zpitr/zpitr.yaml}), parses it strictly and validates it into {@link Settings}. An
 * unknown key is an error naming the key and its line, so a typo never silently means a default.
 */
public final class ConfigLoader {
    public static final Path DEFAULT = Path.of("/etc/zpitr/zpitr.yaml");

    private ConfigLoader() {}

    /** The file to read: the option, else the environment variable, else the default. */
    public static Path locate(Path option, Map<String, String> env) {
        if (option != null) {
            return option;
        }
        String fromEnv = env.get("ZPITR_CONFIG");
        return fromEnv != null && !fromEnv.isBlank() ? Path.of(fromEnv) : DEFAULT;
    }

    /** Reads, parses and validates {@code file}. */
    public static Settings load(Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        String text;
        try {
            text = Files.readString(absolute);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + absolute + " does not exist"
                    + "\nHINT: pass --config FILE or set ZPITR_CONFIG; config/zpitr.example.yaml documents every key");
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + absolute + ": " + e.getMessage(), e);
        }
        ZpitrConfig raw = parse(absolute, text);
        try {
            Settings settings = Settings.from(absolute, raw);
            // A restored instance's restore_command names its own spool, beside its clone.
            String spool = System.getenv("ZPITR_SPOOL_DIR");
            return spool == null || spool.isBlank()
                    ? settings
                    : settings.withSpoolDir(Path.of(spool).toAbsolutePath().normalize());
        } catch (ConfigException | IllegalArgumentException e) { // an invalid value, or an invalid dataset name
            throw new ConfigException("config " + absolute + ": " + e.getMessage(), e);
        }
    }

    static ZpitrConfig parse(Path file, String text) {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        try {
            ZpitrConfig config = yaml.readValue(text, ZpitrConfig.class);
            if (config == null) {
                throw new ConfigException("config " + file + " is empty");
            }
            return config;
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds() == null
                    ? ""
                    : e.getKnownPropertyIds().stream()
                            .map(Object::toString)
                            .sorted()
                            .collect(Collectors.joining(", "));
            throw new ConfigException(
                    "config " + file + " line " + line(text, e) + ": unknown key '" + e.getPropertyName() + "'"
                            + section(e) + (known.isEmpty() ? "" : "\nHINT: known keys here: " + known),
                    e);
        } catch (JsonMappingException e) {
            throw new ConfigException(
                    "config " + file + " line " + line(text, e) + ": "
                            + section(e).strip() + " "
                            + e.getOriginalMessage().lines().findFirst().orElse(""),
                    e);
        } catch (JsonProcessingException e) {
            throw new ConfigException(
                    "config " + file + " line " + line(e.getLocation()) + ": not valid YAML: "
                            + e.getOriginalMessage().lines().findFirst().orElse(""),
                    e);
        }
    }

    /**
     * The line of the key the exception points at. Jackson buffers record properties, so its own
     * location is the end of the enclosing mapping; SnakeYAML's node tree keeps each key's mark.
     */
    private static String line(String text, JsonMappingException e) {
        try {
            org.yaml.snakeyaml.nodes.Node node = new org.yaml.snakeyaml.Yaml().compose(new java.io.StringReader(text));
            org.yaml.snakeyaml.nodes.Node keyNode = null;
            for (JsonMappingException.Reference ref : e.getPath()) {
                if (node instanceof org.yaml.snakeyaml.nodes.MappingNode map && ref.getFieldName() != null) {
                    org.yaml.snakeyaml.nodes.NodeTuple found = map.getValue().stream()
                            .filter(t -> t.getKeyNode() instanceof org.yaml.snakeyaml.nodes.ScalarNode k
                                    && k.getValue().equals(ref.getFieldName()))
                            .findFirst()
                            .orElse(null);
                    if (found == null) {
                        break;
                    }
                    keyNode = found.getKeyNode();
                    node = found.getValueNode();
                } else if (node instanceof org.yaml.snakeyaml.nodes.SequenceNode seq
                        && ref.getIndex() >= 0
                        && ref.getIndex() < seq.getValue().size()) {
                    node = seq.getValue().get(ref.getIndex());
                    keyNode = node;
                } else {
                    break;
                }
            }
            if (keyNode != null) {
                return Integer.toString(keyNode.getStartMark().getLine() + 1);
            }
        } catch (RuntimeException ignored) {
            // Not parsable as a node tree: fall back to Jackson's own location.
        }
        return line(e.getLocation());
    }

    private static String line(JsonLocation location) {
        return location == null ? "?" : Integer.toString(location.getLineNr());
    }

    private static String section(JsonMappingException e) {
        String path = e.getPath().stream()
                .limit(Math.max(0, e.getPath().size() - (e instanceof UnrecognizedPropertyException ? 1 : 0)))
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."))
                .replace(".[", "[");
        return path.isEmpty() ? "" : " in " + path;
    }
}
