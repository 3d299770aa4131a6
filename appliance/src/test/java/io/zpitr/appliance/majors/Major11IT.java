// The major scenario on PostgreSQL 11.22 from Maven Central: the last major with recovery.conf.
package io.zpitr.appliance.majors;

/** {@link MajorScenario} on PostgreSQL 11. */
class Major11IT extends MajorScenario {
    Major11IT() {
        super(11);
    }
}
