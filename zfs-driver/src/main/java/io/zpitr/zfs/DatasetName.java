// A ZFS filesystem or volume name, validated on construction.
package io.zpitr.zfs;

import java.util.List;
import java.util.Optional;

/**
 * The name of a filesystem or volume, such as {@code tank/pg/data}. Construction validates it, so an
 * instance can always be handed to a {@code zfs} command: see {@link NameRules}.
 */
public final class DatasetName implements ZfsName, Comparable<DatasetName> {
    private final String name;

    private DatasetName(String name) {
        this.name = name;
    }

    /** Parses and validates; throws {@link InvalidNameException} with the reason. */
    public static DatasetName of(String name) {
        if (name == null || name.isEmpty()) {
            throw new InvalidNameException("dataset", String.valueOf(name), "it is empty");
        }
        NameRules.checkLength("dataset", name);
        if (name.indexOf('@') >= 0 || name.indexOf('#') >= 0) {
            throw new InvalidNameException("dataset", name, "'@' and '#' belong to snapshot and bookmark names");
        }
        String[] parts = name.split("/", -1);
        NameRules.checkPool(name, parts[0]);
        for (int i = 1; i < parts.length; i++) {
            NameRules.checkComponent("dataset", name, parts[i]);
        }
        return new DatasetName(name);
    }

    @Override
    public String full() {
        return name;
    }

    public String pool() {
        int slash = name.indexOf('/');
        return slash < 0 ? name : name.substring(0, slash);
    }

    public List<String> components() {
        return List.of(name.split("/"));
    }

    public Optional<DatasetName> parent() {
        int slash = name.lastIndexOf('/');
        return slash < 0 ? Optional.empty() : Optional.of(new DatasetName(name.substring(0, slash)));
    }

    /** The last component. */
    public String leaf() {
        return name.substring(name.lastIndexOf('/') + 1);
    }

    /** A child dataset; the component is validated. */
    public DatasetName child(String component) {
        return of(name + "/" + component);
    }

    /** This dataset's snapshot with the given short name (validated). */
    public SnapshotName snapshot(String shortName) {
        return SnapshotName.of(this, shortName);
    }

    /** True if {@code other} is this dataset or below it. */
    public boolean contains(DatasetName other) {
        return other.name.equals(name) || other.name.startsWith(name + "/");
    }

    /** The deepest dataset containing both, if they share a pool. */
    public Optional<DatasetName> commonAncestor(DatasetName other) {
        List<String> a = components();
        List<String> b = other.components();
        int n = 0;
        while (n < a.size() && n < b.size() && a.get(n).equals(b.get(n))) {
            n++;
        }
        return n == 0 ? Optional.empty() : Optional.of(new DatasetName(String.join("/", a.subList(0, n))));
    }

    @Override
    public int compareTo(DatasetName o) {
        return name.compareTo(o.name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DatasetName d && d.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
