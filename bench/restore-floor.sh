#!/usr/bin/env bash
# Restore benchmark against the floor (issue 10, item 1): `zpitr restore --to-time T` from two SSH
# archive hosts against the same restore done by hand on a clone of the same snapshot (cp from a local
# flat copy of the archive, recovery_target_action = promote), alternating, N rounds, medians, phases
# from each server log. Runs appliance/src/test/java/.../RestoreFloorBench.java through failsafe and
# writes bench/results/restore-floor-<UTC time>.txt.
#
#   bench/restore-floor.sh                                   # 10 and 100 segments, 3 rounds, pgbench -s 10
#   BENCH_SEGMENTS=10 BENCH_ROUNDS=1 bench/restore-floor.sh  # a quick try
#   BENCH_WAYS="by hand,zpitr,zpitr -Dzpitr.restore.workers=2" bench/restore-floor.sh   # a lever beside them
#   BENCH_ZFS_PROPS=recordsize=8K bench/restore-floor.sh  # the standby dataset with other ZFS properties
#   BENCH_SETTLE=false bench/restore-floor.sh        # do not wait for zfs-fuse to be idle (0.3 s) before each restore
#   BENCH_HOLD=/tmp/hold BENCH_SEGMENTS=" " BENCH_IMMEDIATE=1 bench/restore-floor.sh  # set up, then wait (paths in
#                                                 # /tmp/hold) until /tmp/hold is deleted: for tracing by hand
#
# Needs root, the zfs-fuse daemon running, PostgreSQL 15 and OpenSSH (scripts/test installs them).
# Check first that nothing of an earlier run still runs: pgrep -a java; zpool list.
set -euo pipefail
root=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
cd "$root"
[[ $(id -u) -eq 0 ]] || { echo "bench/restore-floor.sh: run as root" >&2; exit 2; }
mkdir -p bench/results
results="$root/bench/results/restore-floor-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "bench/restore-floor.sh: results also in $results"
exec mvn -B -q -ntp -pl appliance -am verify \
  -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=RestoreFloorBench -Dfailsafe.failIfNoSpecifiedTests=false -Dfailsafe.useFile=false \
  -Dbench.segments="${BENCH_SEGMENTS:-10,100}" -Dbench.rounds="${BENCH_ROUNDS:-3}" -Dbench.scale="${BENCH_SCALE:-10}" \
  -Dbench.immediate="${BENCH_IMMEDIATE:-0}" -Dbench.results="$results" ${BENCH_WAYS:+"-Dbench.ways=$BENCH_WAYS"} ${BENCH_TRACE:+-Dbench.trace="$BENCH_TRACE"} ${BENCH_HOLD:+-Dbench.hold="$BENCH_HOLD"} ${BENCH_ZFS_PROPS:+-Dbench.zfs.props="$BENCH_ZFS_PROPS"} ${BENCH_SETTLE:+-Dbench.settle="$BENCH_SETTLE"} -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
