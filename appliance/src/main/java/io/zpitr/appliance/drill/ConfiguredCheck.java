// One drill check from drill.checks, validated when the configuration is read.
package io.zpitr.appliance.drill;

import io.zpitr.appliance.config.ConfigException;
import io.zpitr.appliance.config.ZpitrConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * @param name     how the check is named in output, the audit log and the report
 * @param database the database its SQL runs in
 * @param sql      one statement returning one value
 * @param expect   what the value must meet
 */
public record ConfiguredCheck(String name, String database, String sql, Expectation expect) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    private static final Pattern DATABASE = Pattern.compile("[^\\x00-\\x1f]{1,63}");

    /**
     * The checks of {@code drill.checks}, in order; none when the section is absent. Read with the
     * rest of the configuration, so a bad check is refused before anything runs.
     *
     * @throws ConfigException naming the check and what is wrong with it
     */
    public static List<ConfiguredCheck> from(ZpitrConfig.Drill drill) {
        if (drill == null || drill.checks() == null) {
            return List.of();
        }
        List<ConfiguredCheck> checks = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < drill.checks().size(); i++) {
            ZpitrConfig.DrillCheck c = drill.checks().get(i);
            String where = "drill.checks[" + i + "]";
            if (c == null || c.name() == null || !NAME.matcher(c.name()).matches()) {
                throw new ConfigException(where + ": name '" + (c == null ? null : c.name())
                        + "' must be 1-63 letters, digits and _ . -\nHINT: e.g. {name: orders, database: shop, sql: \"select"
                        + " count(*) from orders\", expect: \"> 0\"}");
            }
            where = "drill check '" + c.name() + "'";
            if (!names.add(c.name())) {
                throw new ConfigException(where + " is configured twice\nHINT: give each check its own name");
            }
            if (c.database() == null || !DATABASE.matcher(c.database()).matches()) {
                throw new ConfigException(where + ": database is missing or not a database name");
            }
            if (c.sql() == null || c.sql().isBlank()) {
                throw new ConfigException(where + ": sql is missing\nHINT: one statement that returns one value");
            }
            Expectation expect;
            try {
                expect = Expectation.parse(c.expect());
            } catch (ConfigException e) {
                throw new ConfigException(where + ": " + e.getMessage(), e);
            }
            checks.add(new ConfiguredCheck(c.name(), c.database(), c.sql().strip(), expect));
        }
        return List.copyOf(checks);
    }
}
