// A ZFS snapshot name (dataset@snapshot), validated on construction.
package io.zpitr.zfs;

/** The name of one snapshot, such as {@code tank/pg/data@zpitr-20261120T040100Z}. */
public final class SnapshotName implements ZfsName, Comparable<SnapshotName> {
    private final DatasetName dataset;
    private final String shortName;

    private SnapshotName(DatasetName dataset, String shortName) {
        this.dataset = dataset;
        this.shortName = shortName;
    }

    /** Parses {@code dataset@snapshot}; throws {@link InvalidNameException} with the reason. */
    public static SnapshotName parse(String full) {
        if (full == null) {
            throw new InvalidNameException("snapshot", "null", "it is empty");
        }
        int at = full.indexOf('@');
        if (at < 0) {
            throw new InvalidNameException("snapshot", full, "it has no '@'");
        }
        if (full.indexOf('@', at + 1) >= 0) {
            throw new InvalidNameException("snapshot", full, "it has more than one '@'");
        }
        return of(DatasetName.of(full.substring(0, at)), full.substring(at + 1));
    }

    public static SnapshotName of(DatasetName dataset, String shortName) {
        String full = dataset.full() + "@" + shortName;
        NameRules.checkLength("snapshot", full);
        NameRules.checkComponent("snapshot", full, shortName);
        return new SnapshotName(dataset, shortName);
    }

    /** Checks a short snapshot name (the part after '@') on its own. */
    public static String checkShortName(String shortName) {
        NameRules.checkComponent("snapshot", String.valueOf(shortName), shortName == null ? "" : shortName);
        return shortName;
    }

    public DatasetName dataset() {
        return dataset;
    }

    /** The part after '@'. */
    public String shortName() {
        return shortName;
    }

    @Override
    public String full() {
        return dataset.full() + "@" + shortName;
    }

    @Override
    public int compareTo(SnapshotName o) {
        return full().compareTo(o.full());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SnapshotName s && s.dataset.equals(dataset) && s.shortName.equals(shortName);
    }

    @Override
    public int hashCode() {
        return full().hashCode();
    }

    @Override
    public String toString() {
        return full();
    }
}
