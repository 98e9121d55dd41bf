package main

// End-to-end tests of `sinkrun run` as a process: killed with SIGKILL at
// several moments and run again, stopped with SIGINT, and split into shards
// that run as concurrent processes into one results directory.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/runtime/runner/runnertest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the command once per test process (GOTOOLCHAIN and
// GOEXPERIMENT come from the environment, as for the tests themselves).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sinkrun-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sinkrun")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building sinkrun: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// A grid of 6 tiny runs of well under a second each.
const killGrid = `experiment kill {
  model { layers 1; heads 2; d_model 16 }
  data { corpus bigram_backcopy(vocab: 16, triggers: 2); context 16 }
  train { steps 150; batch 4; seeds [1, 2]; schedule cosine(warmup: 10, min_lr: 0.1) }
  measure { every 50; probe_sequences 8; probe_length 16; val_batches 2 }
  vary train.optimizer.lr [1e-3, 3e-3, 1e-2]
}
`

func writeSink(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "grid.sink")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// proc is a running sinkrun whose stderr the test can watch.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func start(t *testing.T, args ...string) *proc {
	t.Helper()
	return startCmd(t, exec.Command(binary(t), args...))
}

func startCmd(t *testing.T, cmd *exec.Cmd, env ...string) *proc {
	t.Helper()
	p := &proc{cmd: cmd, done: make(chan struct{})}
	p.cmd.Stderr = p
	p.cmd.Stdout = p
	p.cmd.Env = append(append(os.Environ(), "GOMLX_BACKEND="), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		p.cmd.Process.Kill()
		t.Fatalf("sinkrun did not finish:\n%s", p.log())
	}
	return p.cmd.ProcessState.ExitCode()
}

// until polls cond until it holds and reports true, or reports false when
// the process exits first.
func (p *proc) until(cond func() bool) bool {
	for !cond() {
		select {
		case <-p.done:
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
	return true
}

// checkpointedSince reports whether a run saved a checkpoint after t.
func checkpointedSince(out string, t time.Time) func() bool {
	return func() bool {
		m, _ := filepath.Glob(filepath.Join(out, "checkpoints", "*", "run-*", "state.gob"))
		for _, f := range m {
			if fi, err := os.Stat(f); err == nil && fi.ModTime().After(t) {
				return true
			}
		}
		return false
	}
}

func (p *proc) logged(s string) func() bool {
	return func() bool { return strings.Contains(p.log(), s) }
}

// TestKillAndRerun stops a batch four times — SIGKILL while runs are past a
// checkpoint, SIGKILL right after a run's results were written, SIGKILL
// after a resumed run saved again, and SIGINT (exit 130, runs in flight
// checkpointed) — and runs the same command to the end. After every stop,
// every visible Parquet file must be complete and no run recorded twice; at
// the end every run must be recorded exactly once, nothing may be left
// behind, and the results must equal an uninterrupted batch's bit for bit
// (so the resumed runs replayed exactly what they would have trained).
func TestKillAndRerun(t *testing.T) {
	sink := writeSink(t, killGrid)
	ref := filepath.Join(t.TempDir(), "ref")
	if p := start(t, "run", sink, "--out", ref, "-j", "1"); p.wait(t) != 0 {
		t.Fatalf("reference batch:\n%s", p.log())
	}

	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", sink, "--out", out, "-j", "2", "--checkpoint-every", "15", "--progress", "lines"}
	resumed, finished := false, false
	for _, stop := range []struct {
		name string
		sig  os.Signal
		when func(p *proc, began time.Time) func() bool
	}{
		{"SIGKILL past a checkpoint", os.Kill, func(p *proc, began time.Time) func() bool { return checkpointedSince(out, began) }},
		{"SIGKILL after a run's results were written", os.Kill, func(p *proc, began time.Time) func() bool { return p.logged(": done in") }},
		{"SIGKILL after a resumed run saved again", os.Kill, func(p *proc, began time.Time) func() bool { return checkpointedSince(out, began) }},
		{"SIGINT", os.Interrupt, func(p *proc, began time.Time) func() bool { return checkpointedSince(out, began) }},
	} {
		began := time.Now()
		p := start(t, args...)
		stopped := p.until(stop.when(p, began))
		if stopped {
			p.cmd.Process.Signal(stop.sig)
		}
		code := p.wait(t)
		resumed = resumed || strings.Contains(p.log(), "resumed from its checkpoint")
		runnertest.Read(t, out) // every visible file is complete, no run twice
		switch {
		case code == 0:
			// The batch finished before the moment came (or the signal landed).
			t.Logf("%s: the batch finished first", stop.name)
			finished = true
		case stop.sig == os.Interrupt && code != exitInterrupted:
			t.Fatalf("%s: exit code %d, want %d:\n%s", stop.name, code, exitInterrupted, p.log())
		case stop.sig == os.Interrupt && (!strings.Contains(p.log(), "checkpointed at step") || !strings.Contains(p.log(), "interrupted; run the same command again")):
			t.Errorf("%s: the log does not say what was kept:\n%s", stop.name, p.log())
		}
		if finished {
			break
		}
	}
	if !finished {
		p := start(t, args...)
		if code := p.wait(t); code != 0 {
			t.Fatalf("final batch: exit code %d:\n%s", code, p.log())
		}
		resumed = resumed || strings.Contains(p.log(), "resumed from its checkpoint")
	}
	if !resumed {
		t.Errorf("no run resumed from a checkpoint in any of the batches")
	}
	runnertest.SameResults(t, out, ref)
	runnertest.AssertClean(t, out)
	for _, table := range []string{"runs", "metrics", "heads"} {
		files, _ := filepath.Glob(filepath.Join(out, table, "experiment=kill", "*"))
		if len(files) != 6 {
			t.Errorf("%s: %d files, want 6: %v", table, len(files), files)
		}
	}
	// And once more: everything is skipped.
	p := start(t, args...)
	if code := p.wait(t); code != 0 || !strings.Contains(p.log(), "0 done, 6 skipped") {
		t.Errorf("re-run of a finished batch: exit %d\n%s", code, p.log())
	}
}

// TestShardsUnionEqualsWhole runs a grid as 3 processes at once writing
// into one results directory, as 3 fixed shards and as 3 claiming workers,
// and checks that together they wrote exactly what one process writes for
// the whole grid, each run trained once. The processes run
// deploy/slurm/sinkrun.sbatch as the tasks of a stepped Slurm array would
// (its #SBATCH lines are comments to bash), with the array's variables set.
// (The script on a real Slurm: test/slurm.)
func TestShardsUnionEqualsWhole(t *testing.T) {
	// 4 runs over two experiments: shards of 2, 1 and 1 runs.
	grid := strings.NewReplacer("steps 150", "steps 30", "every 50", "every 10", "seeds [1, 2]", "seeds [1]").Replace(killGrid)
	other := strings.NewReplacer("experiment kill", "experiment other", "seeds [1]", "seeds [7]", "[1e-3, 3e-3, 1e-2]", "[3e-3]").Replace(grid)
	sink := writeSink(t, grid+other)
	whole := filepath.Join(t.TempDir(), "whole")
	if p := start(t, "run", sink, "--out", whole, "-j", "1"); p.wait(t) != 0 {
		t.Fatalf("whole batch:\n%s", p.log())
	}
	script, err := filepath.Abs("../../deploy/slurm/sinkrun.sbatch")
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"shard", "claim"} {
		shared := filepath.Join(t.TempDir(), split)
		var procs []*proc
		for i := 0; i < 3; i++ {
			// An array submitted with --array=1-5:2: task ids 1, 3, 5 are shards 0/3, 1/3, 2/3.
			procs = append(procs, startCmd(t, exec.Command("bash", script, sink, "-j", "1"), "SINKRUN="+binary(t), "SINKRUN_OUT="+shared,
				"SINKRUN_SPLIT="+split, fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", 2*i+1), "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=5",
				"SLURM_ARRAY_TASK_STEP=2", "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_JOB_ID=42"))
		}
		total := 0
		for i, p := range procs {
			if code := p.wait(t); code != 0 {
				t.Fatalf("%s %d: exit code %d:\n%s", split, i, code, p.log())
			}
			want := "--claim"
			if split == "shard" {
				want = fmt.Sprintf("--shard %d/3", i)
			}
			if !strings.Contains(p.log(), want) || !strings.Contains(p.log(), "sinkrun plot "+shared) {
				t.Errorf("%s %d does not say what it runs (%s) and how to draw the figures:\n%s", split, i, want, p.log())
			}
			total += strings.Count(p.log(), "training run-")
		}
		if total != 4 {
			t.Errorf("%s: the processes trained %d runs, want 4", split, total)
		}
		runnertest.SameResults(t, shared, whole)
		runnertest.AssertClean(t, shared)
	}
}
