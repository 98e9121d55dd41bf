package slurm

// These tests run the shipped sbatch script (deploy/slurm/sinkrun.sbatch) on
// a real single-node Slurm cluster, brought up by test/slurm/run.sh (`make
// slurm-test`, part of `make test`), and check that every array —
// contiguous, stepped, more tasks than runs, cancelled or killed mid-run and
// resubmitted — trains every run exactly once, with the results of one
// process, and that fixed slices that cannot cover the batch are refused.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/runtime/runner/runnertest"
)

// grid is 6 tiny runs of a second or so each on one core: long enough to be
// cancelled mid-run (checkpoints every 100 steps).
const grid = `experiment slurmgrid {
  model { layers 1; heads 2; d_model 16 }
  data { corpus bigram_backcopy(vocab: 16, triggers: 2); context 16 }
  train { steps 1500; batch 4; seeds [1, 2, 3]; schedule constant(warmup: 5) }
  measure { every 500; probe_sequences 8; probe_length 16; val_batches 2 }
  vary train.optimizer.lr [1e-3, 3e-3]
}
`

const runs = 6

// cluster is what run.sh hands over: the binary and the cluster's files.
type cluster struct {
	bin, script, jobcomp string
	dir                  string // the test's working directory (grid.sink, outputs, logs)
}

func setup(t *testing.T) *cluster {
	if os.Getenv("SINKRUN_SLURM") == "" {
		t.Skip("needs a Slurm cluster: run by `make slurm-test` (test/slurm/run.sh), which brings one up")
	}
	c := &cluster{bin: os.Getenv("SINKRUN_BIN"), jobcomp: filepath.Join(os.Getenv("SLURM_DIR"), "jobcomp.txt")}
	script, err := filepath.Abs("../../deploy/slurm/sinkrun.sbatch")
	if err != nil {
		t.Fatal(err)
	}
	c.script = script
	if c.bin == "" || os.Getenv("SLURM_DIR") == "" {
		t.Fatal("SINKRUN_BIN and SLURM_DIR must be set (test/slurm/run.sh sets them)")
	}
	// Under SLURM_DIR, not t.TempDir: the jobs' processes must be able to
	// reach it, and it stays for a look at the logs when a check fails.
	c.dir = filepath.Join(os.Getenv("SLURM_DIR"), "work")
	os.RemoveAll(c.dir)
	if err := os.MkdirAll(filepath.Join(c.dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "grid.sink"), []byte(grid), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// reference trains the grid in one process, outside Slurm.
func (c *cluster) reference(t *testing.T) string {
	t.Helper()
	ref := filepath.Join(c.dir, "reference")
	cmd := exec.Command(c.bin, "run", "grid.sink", "--out", ref, "--progress", "lines")
	cmd.Dir = c.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference: %v\n%s", err, out)
	}
	return ref
}

// submit submits the sbatch script as an array on one CPU per task and
// returns the job id. env sets variables for the script (SINKRUN_LEASE is
// 20s unless set).
func (c *cluster) submit(t *testing.T, out, array string, env ...string) string {
	t.Helper()
	vars := []string{"ALL", "SINKRUN=" + c.bin, "SINKRUN_OUT=" + out}
	if !strings.Contains(strings.Join(env, ","), "SINKRUN_LEASE=") {
		vars = append(vars, "SINKRUN_LEASE=20s")
	}
	args := []string{"--parsable", "-c", "1", "--mem=500M", "--array=" + array, "--chdir=" + c.dir,
		"--output=" + filepath.Join(c.dir, "logs", filepath.Base(out)+"-%A_%a.log"),
		"--export=" + strings.Join(append(vars, env...), ","),
		c.script, "grid.sink", "--checkpoint-every", "100"}
	cmd := exec.Command("sbatch", args...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch %v: %v\n%s", args, err, b)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(b)), ";")
	t.Logf("job %s: --array=%s into %s", id, array, filepath.Base(out))
	return id
}

// task is one array task's end, from jobcomp/filetxt.
type task struct{ state, exit string }

var field = regexp.MustCompile(`(\w+)=(\S*)`)

// wait waits for the job's n tasks to end and returns them by array index.
// A cancelled task is recorded as ended at once, while its processes still
// have KillWait to finish: the job must also be gone from the queue (not
// COMPLETING).
func (c *cluster) wait(t *testing.T, job string, n int) map[string]task {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute) // a hang guard, not a timing check
	for {
		tasks := c.tasks(job)
		if len(tasks) >= n {
			q, err := exec.Command("squeue", "-h", "-j", job, "-o", "%i %t").CombinedOutput()
			if err == nil && strings.TrimSpace(string(q)) == "" {
				return tasks
			}
		}
		if time.Now().After(deadline) {
			q, _ := exec.Command("squeue", "-a").CombinedOutput()
			t.Fatalf("job %s: %d of %d tasks ended after 10 minutes\n%s", job, len(tasks), n, q)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (c *cluster) tasks(job string) map[string]task {
	tasks := map[string]task{}
	f, err := os.Open(c.jobcomp)
	if err != nil {
		return tasks
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		kv := map[string]string{}
		for _, m := range field.FindAllStringSubmatch(sc.Text(), -1) {
			kv[m[1]] = m[2]
		}
		if kv["ArrayJobId"] == job || (kv["JobId"] == job && kv["ArrayTaskId"] == "") {
			tasks[kv["ArrayTaskId"]] = task{kv["JobState"], kv["ExitCode"]}
		}
	}
	return tasks
}

// logs returns the text of the job's task logs.
func (c *cluster) logs(t *testing.T, out, job string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(c.dir, "logs", filepath.Base(out)+"-"+job+"_*.log"))
	var b strings.Builder
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "=== %s\n%s", filepath.Base(f), text)
	}
	return b.String()
}

// waitCheckpoint waits until a run of out has saved a checkpoint.
func (c *cluster) waitCheckpoint(t *testing.T, out, job string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		// run-<id>/ or, while a worker holds the run, run-<id>.claim-<n>/
		if m, _ := filepath.Glob(filepath.Join(out, "checkpoints", "*", "run-*", "state.gob")); len(m) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint after 5 minutes:\n%s", c.logs(t, out, job))
		}
	}
}

// claims lists the claims left under out.
func claims(out string) []string {
	m, _ := filepath.Glob(filepath.Join(out, "claims", "*", "*.claim"))
	return m
}

// allCompleted checks that every task ended COMPLETED with exit code 0.
func allCompleted(t *testing.T, tasks map[string]task, logs string) {
	t.Helper()
	for id, tk := range tasks {
		if tk.state != "COMPLETED" || tk.exit != "0:0" {
			t.Errorf("task %s: %s, exit %s\n%s", id, tk.state, tk.exit, logs)
		}
	}
}

var doneLine = regexp.MustCompile(`: done in .*`)
var runID = regexp.MustCompile(`training run-([0-9a-f]+)`)

// exactlyOnce checks that, over all the logs, each run finished once (the
// "done in" lines; an interrupted attempt does not finish), that the results
// directory holds each run once with the numbers of one process, and that
// nothing was left behind.
func exactlyOnce(t *testing.T, out, ref string, logs ...string) {
	t.Helper()
	all := strings.Join(logs, "\n")
	if n := len(doneLine.FindAllString(all, -1)); n != runs {
		t.Errorf("%d runs finished over all tasks, want %d, each once:\n%s", n, runs, all)
	}
	trained := map[string]bool{}
	for _, m := range runID.FindAllStringSubmatch(all, -1) {
		trained[m[1]] = true
	}
	if len(trained) != runs {
		t.Errorf("%d distinct runs trained, want %d", len(trained), runs)
	}
	runnertest.SameResults(t, out, ref)
	runnertest.AssertClean(t, out)
	if m := claims(out); len(m) > 0 {
		t.Errorf("claims left behind: %v", m)
	}
}

func TestSlurm(t *testing.T) {
	c := setup(t)
	ref := c.reference(t)

	for _, tc := range []struct{ name, array string }{
		{"contiguous array", "0-2"},
		{"stepped array", "0-4:2"},
		{"more tasks than runs", "0-7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(c.dir, strings.ReplaceAll(tc.name, " ", "-"))
			job := c.submit(t, out, tc.array)
			tasks := c.wait(t, job, strings.Count(expand(tc.array), ",")+1)
			logs := c.logs(t, out, job)
			allCompleted(t, tasks, logs)
			exactlyOnce(t, out, ref, logs)
			// Slurm does not pin the tasks here (task/none): each sees
			// both cores, and must use the one it was given.
			if !strings.Contains(logs, "1 at once, 1 thread each on 1 core,") {
				t.Errorf("a task did not size itself on SLURM_CPUS_PER_TASK=1:\n%s", logs)
			}
		})
	}

	t.Run("cancelled and resubmitted", func(t *testing.T) {
		out := filepath.Join(c.dir, "cancelled")
		job := c.submit(t, out, "0-1")
		c.waitCheckpoint(t, out, job) // cancel mid-run
		if b, err := exec.Command("scancel", job).CombinedOutput(); err != nil {
			t.Fatalf("scancel: %v\n%s", err, b)
		}
		tasks := c.wait(t, job, 2)
		first := c.logs(t, out, job)
		for id, tk := range tasks {
			if tk.state != "CANCELLED" {
				t.Errorf("cancelled task %s: %s, exit %s", id, tk.state, tk.exit)
			}
		}
		for _, want := range []string{"interrupted: checkpointing the runs in flight", "checkpointed at step",
			"interrupted; run the same command again to resume"} {
			if !strings.Contains(first, want) {
				t.Errorf("the cancelled tasks' logs lack %q:\n%s", want, first)
			}
		}
		if m := claims(out); len(m) > 0 {
			t.Errorf("the cancelled tasks did not release their claims: %v", m)
		}

		job2 := c.submit(t, out, "0-1")
		tasks = c.wait(t, job2, 2)
		second := c.logs(t, out, job2)
		allCompleted(t, tasks, second)
		if !strings.Contains(second, "resumed from its checkpoint at step") {
			t.Errorf("no run resumed from its checkpoint:\n%s", second)
		}
		exactlyOnce(t, out, ref, first, second)
	})

	t.Run("killed and taken over", func(t *testing.T) {
		const lease = 5 * time.Second
		out := filepath.Join(c.dir, "killed")
		job := c.submit(t, out, "0-1", "SINKRUN_LEASE="+lease.String())
		c.waitCheckpoint(t, out, job)
		// scancel -b without --signal: SIGKILL, no chance to checkpoint
		// or to release the claims.
		if b, err := exec.Command("scancel", "-b", job).CombinedOutput(); err != nil {
			t.Fatalf("scancel -b: %v\n%s", err, b)
		}
		tasks := c.wait(t, job, 2)
		first := c.logs(t, out, job)
		// Slurm may deliver the kill to one task before the other has
		// started its batch step; the survivor then takes the dead one's
		// run over itself once the lease expires. Either way a task must
		// have died without a word, leaving its claim behind.
		killed := 0
		for _, tk := range tasks {
			if tk.state != "COMPLETED" {
				killed++
			}
		}
		if killed == 0 || strings.Contains(first, "interrupted") {
			t.Fatalf("no task was killed mid-run (%v), or one stopped cleanly:\n%s", tasks, first)
		}
		time.Sleep(lease + time.Second) // the dead workers' claims go stale
		job2 := c.submit(t, out, "0-1", "SINKRUN_LEASE="+lease.String())
		tasks = c.wait(t, job2, 2)
		second := c.logs(t, out, job2)
		allCompleted(t, tasks, second)
		for _, want := range []string{"over from", "resumed from its checkpoint at step"} {
			if !strings.Contains(first+second, want) {
				t.Errorf("no worker's log has %q:\n%s\n%s", want, first, second)
			}
		}
		exactlyOnce(t, out, ref, first, second)
	})

	t.Run("fixed shards on a resubmitted subset fail loudly", func(t *testing.T) {
		out := filepath.Join(c.dir, "shards")
		job := c.submit(t, out, "3,5", "SINKRUN_SPLIT=shard")
		tasks := c.wait(t, job, 2)
		logs := c.logs(t, out, job)
		for id, tk := range tasks {
			if tk.state != "FAILED" || tk.exit != "2:0" {
				t.Errorf("task %s: %s, exit %s; want FAILED with exit 2\n%s", id, tk.state, tk.exit, logs)
			}
		}
		if !strings.Contains(logs, "--claim needs no slicing") || strings.Contains(logs, "training run-") {
			t.Errorf("the tasks do not refuse the slices loudly:\n%s", logs)
		}
	})
}

// expand lists the indices of a simple array spec ("0-2", "0-4:2", "0-7",
// "3,5") as "0,2,4".
func expand(spec string) string {
	var ids []string
	for _, part := range strings.Split(spec, ",") {
		lohi, stepText, _ := strings.Cut(part, ":")
		loText, hiText, isRange := strings.Cut(lohi, "-")
		if !isRange {
			ids = append(ids, loText)
			continue
		}
		var lo, hi, step int
		fmt.Sscan(loText, &lo)
		fmt.Sscan(hiText, &hi)
		step = 1
		if stepText != "" {
			fmt.Sscan(stepText, &step)
		}
		for i := lo; i <= hi; i += step {
			ids = append(ids, fmt.Sprint(i))
		}
	}
	return strings.Join(ids, ",")
}
