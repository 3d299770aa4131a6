#!/usr/bin/env bash
# Replays the same archived WAL (>= 25 segments of pgbench, PostgreSQL 15) from one base backup three
# ways -- cp from a local folder, the runbook's scp chain over two SSH hosts, `bin/zpitr wal-fetch`
# over the same hosts -- and prints the times and the ratios zpitr/cp and zpitr/scp.
# As root on Debian with postgresql-15 and openssh-server installed (scripts/test installs them).
# Takes 3-4 minutes. The report also lands in bench/results/wal-fetch-<date>.txt; see bench/README.md.
#
#   bench/wal-fetch.sh                       # 4 rounds (orders alternate), >= 25 segments, scale 10
#   bench/wal-fetch.sh -Dbench.rounds=2 -Dbench.segments=40 -Dbench.scale=10 -Dbench.logs=/tmp/wf-logs
#
# `verify` builds appliance/target/zpitr.jar (package) before failsafe runs WalFetchBench
# (integration-test), so bin/zpitr finds the jar. The class name matches neither *Test nor *IT:
# CI never runs it.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
mkdir -p /run/sshd
exec mvn -B -q -pl appliance -am verify -DskipTests=false \
  -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=WalFetchBench -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dfailsafe.useFile=false -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  "$@"
