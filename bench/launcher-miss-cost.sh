#!/bin/bash
# The CPU cost of one restore_command call that bin/zpitr answers from a missing mark (a caught-up
# standby makes two every wal_retrieve_retry_interval), against a bare `sh -c` + bash start, and
# the same launcher started through `#!/usr/bin/env bash` for comparison. CPU time (user + sys of
# the children, from bash's `times`), not wall clock: robust on a loaded machine.
# Usage: bench/launcher-miss-cost.sh [CALLS] [ROUNDS]     (as root or any user; about a minute)
set -euo pipefail

calls=${1:-200}
rounds=${2:-3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
launcher="$here/../bin/zpitr"
work=$(mktemp -d /tmp/zpitr-miss-bench.XXXXXX)
trap 'rm -rf "$work"; rm -f "$link"' EXIT
home="/tmp/zpitr-$UID"
mkdir -p "$home" && chmod 700 "$home"
cfg="$work/zpitr.yaml"
: > "$cfg"
mkdir -p "$work/spool" "$work/pgdata/pg_wal"
link="$home/spool${cfg//\//%}"
ln -sfn "$work/spool" "$link"
# The same file, started through env as the launcher was before.
sed '1s|.*|#!/usr/bin/env bash|' "$launcher" > "$work/zpitr-env" && chmod +x "$work/zpitr-env"
seg=000000010000000000000005
cd "$work/pgdata"   # PostgreSQL runs restore_command in its data directory

# CPU seconds (children) that $calls calls of `sh -c "$1"` cost, a fresh missing mark before each.
cost() {
  local before after i now
  times > "$work/times"; before=$(children_cpu)
  for ((i = 0; i < calls; i++)); do
    now=${EPOCHREALTIME//[!0-9]/}
    printf '%s\n5000\n' $(( now / 1000 )) > "$work/spool/.missing-$seg"
    sh -c "$1" 2> /dev/null || true
  done
  times > "$work/times"; after=$(children_cpu)
  echo "scale=2; ($after - $before) * 1000 / $calls" | bc
}

# user + sys of the shell's waited-for children, in seconds, from `times` written just before
# (its second line, e.g. "0m1.234s 0m2.345s"; `times` in a command substitution would count
# the substitution's own children).
children_cpu() {
  sed -n 2p "$work/times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}

echo "launcher miss-path cost, $calls calls per figure, $rounds rounds, CPU ms per call (user + sys)"
echo "round  bare-sh+bash  launcher(#!/bin/bash)  launcher(#!/usr/bin/env bash)"
for ((r = 1; r <= rounds; r++)); do
  bare=$(cost "bash -c 'exit 1'")
  direct=$(cost "$launcher --config $cfg wal-fetch $seg pg_wal/RECOVERYXLOG")
  viaenv=$(cost "$work/zpitr-env --config $cfg wal-fetch $seg pg_wal/RECOVERYXLOG")
  printf '%5d  %12s  %21s  %29s\n' "$r" "$bare" "$direct" "$viaenv"
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
