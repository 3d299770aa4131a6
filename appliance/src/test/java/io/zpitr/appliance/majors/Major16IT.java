// The major scenario on PostgreSQL 16.4 from Maven Central.
package io.zpitr.appliance.majors;

/** {@link MajorScenario} on PostgreSQL 16. */
class Major16IT extends MajorScenario {
    Major16IT() {
        super(16);
    }
}
