#!/usr/bin/env bash
# A single-node Slurm cluster for the tests, in a private directory:
#
#   source test/slurm/cluster.sh
#   slurm_install        # Debian's slurm-wlm and munge (root, apt), unless installed
#   slurm_start DIR      # munged, slurmctld, slurmd; exports SLURM_CONF
#   ...                  # sbatch, squeue, scancel
#   slurm_stop           # stops the three daemons, by PID
#
# The node has this machine's CPUs and most of its memory; no accounting
# (job states come from jobcomp/filetxt: $SLURM_DIR/jobcomp.txt), no cgroups
# (proctrack/linuxproc, task/none: tasks are not pinned to cores, as on many
# clusters). Nothing outside DIR is written except /run/munge.

slurm_install() {
	if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; then
		return 0
	fi
	if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
		echo "slurm_install: cannot install slurm-wlm and munge: needs apt-get and root" >&2
		return 1
	fi
	echo "installing slurm-wlm and munge (apt-get)" >&2
	apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

slurm_start() {
	SLURM_DIR=$(mkdir -p "$1" && cd "$1" && pwd)
	export SLURM_DIR
	local host cpus mem
	host=$(hostname -s)
	cpus=$(nproc --all)
	mem=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 3 / 4)) # MB; slurmd refuses a node with less than configured
	mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/munge"
	cat >"$SLURM_DIR/slurm.conf" <<EOF
ClusterName=sinkrun-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${SLURM_TEST_PORT:-6917}
SlurmdPort=$((${SLURM_TEST_PORT:-6917} + 1))
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/slurmctld.log
SlurmdLogFile=$SLURM_DIR/slurmd.log
AuthType=auth/munge
AuthInfo=socket=$SLURM_DIR/munge/munge.socket
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_DIR/jobcomp.txt
ReturnToService=2
KillWait=10
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
	export SLURM_CONF=$SLURM_DIR/slurm.conf
	SLURM_PIDS=()

	# munged as root needs --force; its socket and key stay in SLURM_DIR.
	cp /etc/munge/munge.key "$SLURM_DIR/munge/munge.key" 2>/dev/null ||
		dd if=/dev/urandom of="$SLURM_DIR/munge/munge.key" bs=1024 count=1 status=none
	chmod 700 "$SLURM_DIR/munge"
	chmod 400 "$SLURM_DIR/munge/munge.key"
	munged --force -F --key-file="$SLURM_DIR/munge/munge.key" --socket="$SLURM_DIR/munge/munge.socket" \
		--pid-file="$SLURM_DIR/munge/munged.pid" --log-file="$SLURM_DIR/munge/munged.log" \
		--seed-file="$SLURM_DIR/munge/munged.seed" >>"$SLURM_DIR/munge/munged.out" 2>&1 &
	SLURM_PIDS+=($!)
	for _ in $(seq 50); do [ -S "$SLURM_DIR/munge/munge.socket" ] && break; sleep 0.1; done

	slurmctld -D -f "$SLURM_CONF" >>"$SLURM_DIR/slurmctld.out" 2>&1 &
	SLURM_PIDS+=($!)
	slurmd -D -f "$SLURM_CONF" >>"$SLURM_DIR/slurmd.out" 2>&1 &
	SLURM_PIDS+=($!)
	export SLURM_PIDS
	# Ready when the node accepts jobs.
	for _ in $(seq 120); do
		if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
			return 0
		fi
		sleep 0.5
	done
	echo "slurm_start: the node did not come up; logs in $SLURM_DIR" >&2
	tail -5 "$SLURM_DIR"/*.log "$SLURM_DIR"/*.out >&2
	return 1
}

# slurm_stop cancels the jobs left (a test that failed half-way) and waits
# for them to end, so no job process outlives the cluster, then stops the
# daemons slurm_start started (slurmd first), by PID.
slurm_stop() {
	local i pid
	if [ "${#SLURM_PIDS[@]}" -gt 0 ] && [ -n "$(squeue -h 2>/dev/null)" ]; then
		scancel --user="$(id -un)" 2>/dev/null || true
		for _ in $(seq 60); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
	fi
	for ((i = ${#SLURM_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${SLURM_PIDS[i]}
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	SLURM_PIDS=()
}
