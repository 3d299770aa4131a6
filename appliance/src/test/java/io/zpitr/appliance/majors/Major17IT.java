// The major scenario on PostgreSQL 17.6 from Maven Central: incremental backup and WAL summaries arrived in 17.
package io.zpitr.appliance.majors;

/** {@link MajorScenario} on PostgreSQL 17. */
class Major17IT extends MajorScenario {
    Major17IT() {
        super(17);
    }
}
