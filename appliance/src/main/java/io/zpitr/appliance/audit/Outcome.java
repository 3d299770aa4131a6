// Whether an audited operation succeeded; stored as "ok" or "failed".
package io.zpitr.appliance.audit;

/** The {@code outcome} field of an audit record. */
public enum Outcome {
    OK("ok"),
    FAILED("failed");

    private final String wireName;

    Outcome(String wireName) {
        this.wireName = wireName;
    }

    /** The value as stored in the log. */
    public String wireName() {
        return wireName;
    }

    static Outcome ofWireName(String name) {
        for (Outcome o : values()) {
            if (o.wireName.equals(name)) {
                return o;
            }
        }
        throw new IllegalArgumentException("outcome '" + name + "' is neither 'ok' nor 'failed'");
    }
}
