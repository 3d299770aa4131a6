#!/usr/bin/env bash
# Replication benchmark against the floor (issue 12): `zpitr replicate` of a ~1 GB set and of a small
# incremental, from one zfs-fuse pool to another over a real sshd on a loopback address, against the
# same two streams sent by hand (`zfs send [-i] | ssh ... zfs receive`, a kernel pipe, the same ssh
# options), alternating, N rounds, medians. Runs
# appliance/src/test/java/io/zpitr/appliance/replication/ReplicateBench.java through failsafe and
# writes bench/results/replicate-<UTC time>.txt.
#
#   bench/replicate.sh                                          # 1024 MB + 8 MB, 3 rounds
#   BENCH_SIZE_MB=64 BENCH_ROUNDS=1 bench/replicate.sh          # a quick try
#   BENCH_SIZE_MB=512 BENCH_INCREMENT_MB=32 bench/replicate.sh
#
# Needs root, the zfs-fuse daemon running and OpenSSH (scripts/test installs them); ~2.5 GB free in
# /var/tmp for the two pools' files. Check first that nothing of an earlier run still runs:
# pgrep -a java; zpool list.
set -euo pipefail
root=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
cd "$root"
[[ $(id -u) -eq 0 ]] || { echo "bench/replicate.sh: run as root" >&2; exit 2; }
mkdir -p bench/results
results="$root/bench/results/replicate-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "bench/replicate.sh: results also in $results"
exec mvn -B -q -ntp -pl appliance -am verify \
  -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=ReplicateBench -Dfailsafe.failIfNoSpecifiedTests=false -Dfailsafe.useFile=false \
  -Dbench.size.mb="${BENCH_SIZE_MB:-1024}" -Dbench.increment.mb="${BENCH_INCREMENT_MB:-8}" \
  -Dbench.rounds="${BENCH_ROUNDS:-3}" -Dbench.results="$results" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
