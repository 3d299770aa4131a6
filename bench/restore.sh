#!/usr/bin/env bash
# Restore benchmark (issue 5, item 7; issue 10, item 2): time-to-queryable of
# `zpitr restore --to-time T` against pgBackRest's full restore of the same database to the same T
# (asynchronous archive-get, process-max 2), at pgbench scales 70 (~1 GB) and 350 (~5 GB) by
# default, all in one run. Each of BENCH_ROUNDS rounds (default 3) times, in an order rotated every
# round: zpitr's restore into a zfs-fuse clone; pgBackRest restoring into a fresh dataset of the
# same zfs-fuse pool; pgBackRest restoring onto ext4. Prints each run, the medians, the ratios
# zpitr / pgBackRest (below 1 = zpitr faster), replay speeds on zfs-fuse and ext4, and the replay
# an hourly snapshot against a nightly base implies (computed). Runs
# appliance/src/test/java/.../RestoreBench.java through failsafe; prints the results and writes
# them to bench/results/restore-<UTC time>.txt.
#
#   bench/restore.sh                          # scales 70,350, 3 rounds, 30000 transactions before T
#   BENCH_SCALES=5 BENCH_TRANSACTIONS=4000 BENCH_ROUNDS=1 bench/restore.sh   # a quick try
#   BENCH_SCALES=1400 bench/restore.sh        # ~20 GB (22 GB database): needs ~95 GB free in /var/tmp
#   BENCH_SCALES=1370 BENCH_EXT4=0 bench/restore.sh   # ~20 GB without (c), the ext4 reference: ~75 GB
#   BENCH_ROUNDS=5 bench/restore.sh           # rounds per scale (default 3)
#   BENCH_RECORDSIZE=128k bench/restore.sh    # ZFS recordsize of the standby's and pgBackRest's datasets (default 8k)
#   BENCH_COLD=1 bench/restore.sh             # drop this run's files from the caches before every timed restore
#   BENCH_AFTER=40000 bench/restore.sh        # pgbench transactions after T (default 500): a target deep inside the archive
#
# Needs root (zfs-fuse pools, PostgreSQL run as postgres). Installs zfs-fuse, postgresql-15 and
# pgbackrest from Debian when missing, starts the zfs-fuse daemon when none runs (and stops it
# again at the end). Free space in /var/tmp (pgbench scale S is about 16 MB x S): while setting up,
# the primary, the pgBackRest repository and the standby; during the rounds (the primary removed),
# the repository, the pool's file (the standby and one restore at a time; it does not shrink when
# a restore is destroyed) and the ext4 restore: 4 x the largest database plus WAL, 3 x with
# BENCH_EXT4=0. Scale 350 wants ~30 GB, scale 1400 (~20 GB) ~95 GB (~75 GB without ext4); the
# script refuses to start with less.
set -euo pipefail

root=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
cd "$root"

if [[ $(id -u) -ne 0 ]]; then
  echo "bench/restore.sh: run as root" >&2
  exit 2
fi

scales=${BENCH_SCALES:-70,350}
transactions=${BENCH_TRANSACTIONS:-30000}
rounds=${BENCH_ROUNDS:-3}
recordsize=${BENCH_RECORDSIZE:-8k}
cold=${BENCH_COLD:+true}
ext4=true
[[ "${BENCH_EXT4:-1}" == 0 || "${BENCH_EXT4:-1}" == false ]] && ext4=false

packages=()
command -v zfs >/dev/null || packages+=(zfs-fuse)
[[ -x /usr/lib/postgresql/15/bin/postgres ]] || packages+=(postgresql-15)
command -v pgbackrest >/dev/null || packages+=(pgbackrest)
command -v mvn >/dev/null || packages+=(maven)
if ((${#packages[@]})); then
  echo "bench/restore.sh: installing ${packages[*]}"
  mkdir -p /etc/postgresql-common/createcluster.d
  [[ -e /etc/postgresql-common/createcluster.d/zpitr-tests.conf ]] \
    || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/zpitr-tests.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

largest=$(tr ',' '\n' <<<"$scales" | sort -n | tail -1)
copies=4
[[ $ext4 == true ]] || copies=3
need_gb=$(( largest * 16 * copies / 1000 + 8 ))
free_gb=$(df -P -BG /var/tmp | awk 'NR==2 {sub("G","",$4); print $4}')
if (( free_gb < need_gb )); then
  echo "bench/restore.sh: /var/tmp has ${free_gb} GB free; scale $largest needs about ${need_gb} GB" >&2
  exit 1
fi

started_zfs=""
if ! zpool list -H >/dev/null 2>&1; then
  rm -f /run/zfs-fuse.pid   # a stale pid file makes zfs-fuse exit 1 silently
  zfs-fuse -p /run/zfs-fuse.pid
  started_zfs=yes
  for _ in $(seq 1 150); do
    zpool list -H >/dev/null 2>&1 && break
    sleep 0.2
  done
  zpool list -H >/dev/null
fi
stop_zfs() {
  if [[ -n "$started_zfs" && -f /run/zfs-fuse.pid ]]; then
    kill "$(cat /run/zfs-fuse.pid)" 2>/dev/null || true
  fi
}
trap stop_zfs EXIT

mkdir -p bench/results
results="$root/bench/results/restore-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "bench/restore.sh: scales $scales, $rounds rounds, $transactions transactions; results also in $results"
mvn -B -q -ntp -pl appliance -am verify \
  -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=RestoreBench -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dbench.scales="$scales" -Dbench.rounds="$rounds" -Dbench.transactions="$transactions" -Dbench.recordsize="$recordsize" \
  -Dbench.results="$results" -Dbench.cold="${cold:-false}" -Dbench.ext4="$ext4" -Dbench.after="${BENCH_AFTER:-500}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'   # Maven's colour resets, even with -B
