#!/usr/bin/env bash
# `make slurm-test`: bring up a single-node Slurm (installing Debian's
# slurm-wlm and munge if needed: apt, as root), run the Go test of
# test/slurm against the shipped sbatch script and the binary built by
# `make build` (bin/sinkrun), and stop the daemons. Idempotent: run it again
# at will. Only where Slurm cannot be installed (no apt-get, not root) is the
# test skipped, loudly; under CI (CI=true) that is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/slurm/cluster.sh

if ! slurm_install; then
	if [ "${CI:-}" = true ]; then
		echo "slurm-test: FAILED: Slurm cannot be installed here, and CI must run this test" >&2
		exit 1
	fi
	echo "################################################################################" >&2
	echo "## slurm-test SKIPPED: Slurm (slurm-wlm, munge) cannot be installed here:     ##" >&2
	echo "## the test needs apt-get and root. CI runs it.                               ##" >&2
	echo "################################################################################" >&2
	exit 0
fi

bin=$(pwd)/bin/sinkrun
[ -x "$bin" ] || { echo "slurm-test: $bin missing: make build first" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/sinkrun-slurm.XXXXXX")
trap slurm_stop EXIT
slurm_start "$dir"
began=$SECONDS
SINKRUN_SLURM=1 SINKRUN_BIN=$bin SLURM_DIR=$dir go test -count=1 -v -timeout 30m ./test/slurm "$@" # e.g. -run 'TestSlurm/cancelled'
echo "slurm-test: passed in $((SECONDS - began)) s (cluster in $dir, removed)"
rm -rf "$dir"
