// One dataset or snapshot as listed, with the properties that were asked for.
package io.zpitr.zfs;

import java.util.Map;
import java.util.Optional;

/**
 * A listed dataset or snapshot. Property values are exact (bytes, epoch seconds), as
 * {@code zfs get -p} prints them. A user property that is not set is absent from the map.
 *
 * @param name       full name (a snapshot's contains '@')
 * @param type       {@code filesystem}, {@code volume} or {@code snapshot}
 * @param properties property name to exact value
 */
public record ZfsEntry(String name, String type, Map<String, String> properties) {
    public ZfsEntry {
        properties = Map.copyOf(properties);
    }

    public boolean isSnapshot() {
        return "snapshot".equals(type);
    }

    public Optional<String> property(String property) {
        return Optional.ofNullable(properties.get(property));
    }

    /** An exact numeric property (bytes, counts, epoch seconds). */
    public long longProperty(String property) {
        String v = properties.get(property);
        if (v == null) {
            throw new IllegalStateException(name + " has no value for " + property);
        }
        return Long.parseLong(v);
    }
}
