package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/runner/claim"
	"github.com/sinkrun/sinkrun/runtime/runner/runnertest"
	"github.com/sinkrun/sinkrun/runtime/trainer"
)

// reference trains the experiments in one process.
func reference(t *testing.T, exps []*compiler.Experiment) string {
	t.Helper()
	ref := t.TempDir()
	if o, _, err := run(t, exps, Options{Out: ref, Jobs: 1}); err != nil || o.Done != o.Total {
		t.Fatalf("reference: %v %+v", err, o)
	}
	return ref
}

// assertNoClaims checks that no claim is left under a results root.
func assertNoClaims(t *testing.T, out string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(out, claimsDir, "*", "*.claim"))
	c, _ := filepath.Glob(filepath.Join(out, claimsDir, ".clock-*"))
	if len(m)+len(c) > 0 {
		t.Errorf("left behind: %v %v", m, c)
	}
}

// TestClaimWorkers: workers started together on one results directory
// train every run exactly once between them, with the results of one
// process; a worker started afterwards finds nothing to do.
func TestClaimWorkers(t *testing.T) {
	exps := compileSrc(t, strings.Replace(grid, "seeds [1, 2]", "seeds [1, 2, 3]", 1)) // 6 runs
	ref := reference(t, exps)
	out := t.TempDir()
	const workers = 3
	logs := make([]string, workers)
	outcomes := make([]Outcome, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			outcomes[w], logs[w], err = run(t, exps, Options{Out: out, Jobs: 1, Claim: true})
			if err != nil {
				t.Errorf("worker %d: %v", w, err)
			}
		}()
	}
	wg.Wait()
	trained := map[string]int{}
	done := 0
	for w, o := range outcomes {
		if o.Total != 6 || o.Done+o.Skipped+o.Elsewhere != 6 || o.Failed+o.Diverged+o.Interrupted != 0 {
			t.Errorf("worker %d: %+v; want each of the 6 runs done, skipped or trained elsewhere\n%s", w, o, logs[w])
		}
		done += o.Done
		for _, line := range strings.Split(logs[w], "\n") {
			if _, rest, ok := strings.Cut(line, ": training run-"); ok {
				trained[strings.Fields(rest)[0]]++
			}
		}
	}
	if done != 6 || len(trained) != 6 {
		t.Errorf("%d runs done, %d distinct runs trained; want 6 and 6", done, len(trained))
	}
	for id, n := range trained {
		if n != 1 {
			t.Errorf("run-%s trained %d times", id, n)
		}
	}
	runnertest.SameResults(t, out, ref)
	runnertest.AssertClean(t, out)
	assertNoClaims(t, out)

	o, log, err := run(t, exps, Options{Out: out, Claim: true})
	if err != nil || o.Skipped != 6 || strings.Contains(log, "training run-") {
		t.Errorf("late worker: %v %+v\n%s", err, o, log)
	}
}

// interruptSecond trains the batch into out (claiming its runs or not) until
// its second run has saved a checkpoint, and stops it there.
func interruptSecond(t *testing.T, exps []*compiler.Experiment, out string, claiming bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &watchLog{onLine: func(line string) {
		if strings.HasPrefix(line, "[2/") && strings.Contains(line, "training run-") {
			go func() {
				for !hasCheckpoint(out) {
					time.Sleep(2 * time.Millisecond)
				}
				cancel()
			}()
		}
	}}
	o, err := Run(ctx, exps, Options{Out: out, Jobs: 1, CheckpointEvery: 15, Claim: claiming, Log: log, Progress: "lines"})
	if !errors.Is(err, trainer.ErrInterrupted) || o.Done != 1 || o.Interrupted != 1 {
		t.Fatalf("interrupted batch: %v %+v\n%s", err, o, log)
	}
}

// checkpointOf is the checkpoint directory of a run.
func checkpointOf(out string, r config.Run) string {
	return filepath.Join(table.PartitionDir(out, "checkpoints", r.Experiment), "run-"+r.ID())
}

// TestClaimTakeOver: a run whose worker died (its claim is no longer
// refreshed) is taken over and resumed from that worker's checkpoint; a run
// whose worker is alive is left to it, and trained by the next worker once
// it is released.
func TestClaimTakeOver(t *testing.T) {
	exps := compileSrc(t, strings.Replace(grid, "steps 30", "steps 150", 1))
	runs := exps[0].Runs
	ref := reference(t, exps)
	out := t.TempDir()
	// A worker stopped cleanly returns its checkpoint to the run's directory.
	interruptSecond(t, exps, out, true)
	ckpt := checkpointOf(out, runs[1])
	if _, err := os.Stat(filepath.Join(ckpt, "state.gob")); err != nil || len(claimCheckpoints(ckpt)) > 0 {
		t.Fatalf("after a clean stop: %v, claim checkpoints %v; want the checkpoint in %s", err, claimCheckpoints(ckpt), ckpt)
	}
	assertNoClaims(t, out)
	// A worker that died kept it in its claim's own directory.
	if err := os.Rename(ckpt, ckpt+".claim-0"); err != nil {
		t.Fatal(err)
	}

	claims := filepath.Join(out, claimsDir)
	dead, err := claim.Open(claims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Take(claimName(runs[1].Experiment, runs[1].ID())); err != nil {
		t.Fatal(err)
	}
	// Its worker died two hours ago.
	stale := time.Now().Add(-2 * time.Hour)
	file := filepath.Join(claims, filepath.FromSlash(claimName(runs[1].Experiment, runs[1].ID()))+".0.claim")
	if err := os.Chtimes(file, stale, stale); err != nil {
		t.Fatal(err)
	}
	live, err := claim.Open(claims, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	held, err := live.Take(claimName(runs[3].Experiment, runs[3].ID()))
	if err != nil {
		t.Fatal(err)
	}

	o, log, err := run(t, exps, Options{Out: out, Jobs: 1, CheckpointEvery: 15, Claim: true, Lease: time.Hour})
	if err != nil || o.Skipped != 1 || o.Done != 2 || o.Elsewhere != 1 {
		t.Fatalf("worker: %v %+v\n%s", err, o, log)
	}
	for _, want := range []string{
		fmt.Sprintf("[2/4] grid train.optimizer.lr=0.001 seed=2: taking run-%s over from ", runs[1].ID()),
		"[2/4] grid train.optimizer.lr=0.001 seed=2: resumed from its checkpoint at step",
		"[4/4] grid train.optimizer.lr=0.003 seed=2: left to ",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if table.Done(out, runs[3].Experiment, runs[3].ID()) {
		t.Error("the run held by a live worker was trained")
	}

	held.Release()
	dead.Close()
	live.Close()
	o, log, err = run(t, exps, Options{Out: out, Jobs: 1, Claim: true})
	if err != nil || o.Done != 1 || o.Skipped != 3 {
		t.Fatalf("after the release: %v %+v\n%s", err, o, log)
	}
	runnertest.SameResults(t, out, ref)
	runnertest.AssertClean(t, out)
	assertNoClaims(t, out)
}

// TestClaimLost: a worker whose claim was taken over while it trained (it
// stalled for longer than the lease) writes nothing for that run.
func TestClaimLost(t *testing.T) {
	exps := compileSrc(t, strings.Replace(grid, "steps 30", "steps 150", 1))
	runs := exps[0].Runs
	out := t.TempDir()
	claims := filepath.Join(out, claimsDir)
	thief, err := claim.Open(filepath.Join(out, claimsDir), claim.MinLease)
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Close()
	name := claimName(runs[0].Experiment, runs[0].ID())
	var stolen *claim.Claim
	log := &watchLog{onLine: func(line string) {
		if !strings.HasPrefix(line, "[1/4]") || !strings.Contains(line, "training run-") {
			return
		}
		// The worker looks stalled for an hour; the thief takes the run.
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(filepath.Join(claims, filepath.FromSlash(name))+".0.claim", old, old); err != nil {
			t.Error(err)
		}
		var terr error
		if stolen, terr = thief.Take(name); terr != nil {
			t.Error(terr)
		}
	}}
	o, err := Run(context.Background(), exps, Options{Out: out, Jobs: 1, Claim: true, Lease: time.Hour, Log: log, Progress: "lines"})
	if err != nil || o.Done != 3 || o.Elsewhere != 1 {
		t.Fatalf("%v %+v\n%s", err, o, log)
	}
	if !strings.Contains(log.String(), "[1/4] grid train.optimizer.lr=0.001 seed=1: another worker took this run over") {
		t.Errorf("the log does not say the run was lost:\n%s", log)
	}
	if table.Done(out, runs[0].Experiment, runs[0].ID()) {
		t.Error("the worker that lost its claim wrote the run's results")
	}
	// Its last checkpoint went to its own claim's directory, not where the
	// new holder reads and writes.
	if _, err := os.Stat(checkpointOf(out, runs[0])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the worker that lost its claim wrote the run's checkpoint: %v", err)
	}
	if stolen == nil || !stolen.Check() {
		t.Error("the thief does not hold the run")
	} else {
		stolen.Release()
	}
}

// TestInterruptAnnounced: the interruption is always announced before the
// batch returns, whenever the signal comes: before any run started, or as
// the last run ends (when a goroutine choosing between "interrupted" and
// "finished" often missed it).
func TestInterruptAnnounced(t *testing.T) {
	one := strings.NewReplacer("seeds [1, 2]", "seeds [1]", "vary train.optimizer.lr [1e-3, 3e-3]", "").Replace(grid)
	exps := compileSrc(t, one)
	for _, when := range []string{"run to train", "batch: 1 of 1 run finished"} {
		for k := range 5 {
			ctx, cancel := context.WithCancel(context.Background())
			log := &watchLog{onLine: func(line string) {
				if strings.Contains(line, when) {
					cancel()
				}
			}}
			_, err := Run(ctx, exps, Options{Out: t.TempDir(), Jobs: 1, Log: log, Progress: "lines"})
			cancel()
			if !errors.Is(err, trainer.ErrInterrupted) {
				t.Fatalf("cancelled at %q, try %d: %v", when, k, err)
			}
			if !strings.Contains(log.String(), "interrupted: checkpointing the runs in flight") {
				t.Fatalf("cancelled at %q, try %d: the interruption was not announced:\n%s", when, k, log)
			}
		}
	}
}

// TestClaimLostMidRun: a worker that learns at a refresh that its run was
// taken over stops it at once, and the checkpoint that stopping saves goes
// to its own claim's directory, not to the one the new holder uses.
func TestClaimLostMidRun(t *testing.T) {
	one := strings.NewReplacer("seeds [1, 2]", "seeds [1]", "vary train.optimizer.lr [1e-3, 3e-3]", "", "steps 30", "steps 5000").Replace(grid)
	exps := compileSrc(t, one)
	r := exps[0].Runs[0]
	out := t.TempDir()
	base := filepath.Join(out, claimsDir, filepath.FromSlash(claimName(r.Experiment, r.ID())))
	log := &watchLog{onLine: func(line string) {
		if strings.Contains(line, "training run-") {
			// What a worker that took the run over leaves: the next claim.
			if err := os.WriteFile(base+".1.claim", []byte("thief pid 1\n"), 0o644); err != nil {
				t.Error(err)
			}
		}
	}}
	o, err := Run(context.Background(), exps, Options{Out: out, Jobs: 1, Claim: true, Lease: claim.MinLease, Log: log, Progress: "lines"})
	if err != nil || o.Done != 0 || o.Elsewhere != 1 {
		t.Fatalf("%v %+v\n%s", err, o, log)
	}
	if !strings.Contains(log.String(), "another worker took this run over") || table.Done(out, r.Experiment, r.ID()) {
		t.Errorf("the run was not dropped:\n%s", log)
	}
	ckpt := checkpointOf(out, r)
	if _, err := os.Stat(ckpt); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the worker that lost its claim wrote the run's checkpoint: %v", err)
	}
	if _, err := os.Stat(filepath.Join(ckpt+".claim-0", "state.gob")); err != nil {
		t.Errorf("the stopped run's checkpoint is not in its claim's directory: %v", err)
	}
}

// TestClaimQueueRunFinishedMeanwhile: a run another worker finishes after
// this worker stamped the runs files but before it read the results (so it
// is in todo) is resolved as trained elsewhere, not trained again. The
// Slurm test caught this: a task starting as another finished its last run
// trained that run a second time.
func TestClaimQueueRunFinishedMeanwhile(t *testing.T) {
	exps := compileSrc(t, grid) // 4 runs
	runs, err := Select(exps, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	b := &batch{opts: Options{Out: out, Claim: true}, runs: runs, records: make([]*table.Run, len(runs)), disp: newDisplay(io.Discard, "")}
	b.disp.batchLine = b.batchLine
	stamps := runsStamps(out, runs)
	// Another worker finishes run 0 now.
	other := table.NewRun(runs[0], "go", time.Now())
	other.Status = table.StatusDone
	if err := table.Write(out, other, nil, nil); err != nil {
		t.Fatal(err)
	}
	q, err := b.claimQueue([]int{0, 1}, stamps)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	tk, ok, err := q.next()
	if err != nil || !ok || tk.i != 1 {
		t.Fatalf("next: run %d, %v, %v; want run 1 (run 0 was trained elsewhere)", tk.i, ok, err)
	}
	tk.claim.Release()
	if b.outcome.Elsewhere != 1 {
		t.Errorf("trained elsewhere: %d, want 1", b.outcome.Elsewhere)
	}
}
