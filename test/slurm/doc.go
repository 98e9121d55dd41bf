// Package slurm is the end-to-end test of deploy/slurm/sinkrun.sbatch on a
// real single-node Slurm; see slurm_test.go and run.sh.
package slurm
