package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/runner/runnertest"
	"github.com/sinkrun/sinkrun/runtime/trainer"
)

// grid is a 2 x 2 grid of tiny runs (a fraction of a second each).
const grid = `experiment grid {
  model { layers 1; heads 2; d_model 16 }
  data { corpus bigram_backcopy(vocab: 16, triggers: 2); context 16 }
  train { steps 30; batch 4; seeds [1, 2]; schedule constant(warmup: 5) }
  measure { every 10; probe_sequences 8; probe_length 16; val_batches 2 }
  vary train.optimizer.lr [1e-3, 3e-3]
}`

func compileSrc(t *testing.T, src string) []*compiler.Experiment {
	t.Helper()
	exps, err := compiler.Compile(map[string][]byte{"t.sink": []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	return exps
}

// syncBuffer is a log that tests can read while a batch writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func run(t *testing.T, exps []*compiler.Experiment, opts Options) (Outcome, string, error) {
	t.Helper()
	var log syncBuffer
	opts.Log = &log
	if opts.Progress == "" {
		opts.Progress = "lines"
	}
	o, err := Run(context.Background(), exps, opts)
	return o, log.String(), err
}

// TestCaching: a second run skips every run and says so, changing one
// value of an axis re-runs only the runs with that value, --force re-runs all.
func TestCaching(t *testing.T) {
	out := t.TempDir()
	exps := compileSrc(t, grid)
	o, _, err := run(t, exps, Options{Out: out, Jobs: 2})
	if err != nil || o.Done != 4 || o.Total != 4 || len(o.Runs) != 4 {
		t.Fatalf("first batch: %v, %+v", err, o)
	}
	o, log, err := run(t, exps, Options{Out: out})
	if err != nil || o.Skipped != 4 || o.Done != 0 || len(o.Runs) != 4 {
		t.Fatalf("second batch: %v, %+v", err, o)
	}
	if n := strings.Count(log, "already done"); n != 4 || strings.Contains(log, "training run-") {
		t.Errorf("second batch log (want 4 runs skipped and said so):\n%s", log)
	}
	changed := compileSrc(t, strings.Replace(grid, "3e-3]", "5e-3]", 1))
	o, log, err = run(t, changed, Options{Out: out})
	if err != nil || o.Done != 2 || o.Skipped != 2 {
		t.Fatalf("changed axis: %v, %+v\n%s", err, o, log)
	}
	if strings.Count(log, "lr=0.005") < 2 || strings.Contains(log, "lr=0.001 seed=1: training") {
		t.Errorf("changed axis re-ran the wrong runs:\n%s", log)
	}
	o, _, err = run(t, exps, Options{Out: out, Force: true})
	if err != nil || o.Done != 4 || o.Skipped != 0 {
		t.Fatalf("--force: %v, %+v", err, o)
	}
	rs, err := table.ReadRuns(out)
	if err != nil || len(rs) != 6 {
		t.Fatalf("runs table: %d rows (%v), want 6", len(rs), err)
	}
	runnertest.AssertClean(t, out)
}

// TestDivergedThenNext: a run whose loss becomes NaN is recorded as
// diverged with its step, and the batch goes on; --fail-fast stops there.
func TestDivergedThenNext(t *testing.T) {
	// AdamW with eps 0 divides 0 by 0 for the embedding rows of tokens a
	// batch lacks, so the first run's loss becomes NaN.
	src := `experiment nan {
  model { layers 1; heads 2; d_model 16 }
  data { corpus bigram_backcopy(vocab: 64, triggers: 2); context 16 }
  train { steps 30; batch 4; schedule constant(warmup: 5) }
  measure { every 10; probe_sequences 8; probe_length 16; val_batches 2 }
  vary train.optimizer.eps [0, 1e-8]
}`
	exps := compileSrc(t, src)
	out := t.TempDir()
	o, log, err := run(t, exps, Options{Out: out, Jobs: 1})
	if err != nil || o.Diverged != 1 || o.Done != 1 {
		t.Fatalf("%v %+v\n%s", err, o, log)
	}
	d := o.Runs[0]
	if d.Status != table.StatusDiverged || d.DivergedStep < 1 || !strings.Contains(log, fmt.Sprintf("diverged at step %d", d.DivergedStep)) {
		t.Errorf("first run: %s at step %d (%s)\n%s", d.Status, d.DivergedStep, d.Error, log)
	}
	if o.Runs[1].Status != table.StatusDone {
		t.Errorf("second run: %s", o.Runs[1].Status)
	}
	// Diverged is a result: the next batch skips it.
	if o, _, err := run(t, exps, Options{Out: out}); err != nil || o.Skipped != 2 {
		t.Errorf("re-run: %v %+v", err, o)
	}

	out = t.TempDir()
	o, log, err = run(t, exps, Options{Out: out, Jobs: 1, FailFast: true})
	if err == nil || !strings.Contains(err.Error(), "fail-fast") || o.Diverged != 1 || o.Done != 0 {
		t.Fatalf("--fail-fast: %v %+v\n%s", err, o, log)
	}
	if rs, _ := table.ReadRuns(out); len(rs) != 1 {
		t.Errorf("--fail-fast wrote %d runs, want 1", len(rs))
	}
}

// TestFailedRunIsolated: a run that cannot start (its data fails to load)
// is recorded as failed and the batch goes on; the next batch retries it.
func TestFailedRunIsolated(t *testing.T) {
	src := strings.Replace(grid, "vary train.optimizer.lr [1e-3, 3e-3]", `variants {
    missing { data { corpus files(paths: ["does-not-exist/*.txt"]) } }
    ok {}
  }`, 1)
	exps := compileSrc(t, src)
	out := t.TempDir()
	o, log, err := run(t, exps, Options{Out: out, Jobs: 1})
	if err != nil || o.Failed != 2 || o.Done != 2 {
		t.Fatalf("%v %+v\n%s", err, o, log)
	}
	if !strings.Contains(log, "FAILED: loading data") {
		t.Errorf("log lacks the failure:\n%s", log)
	}
	o, _, err = run(t, exps, Options{Out: out, Jobs: 1})
	if err != nil || o.Failed != 2 || o.Skipped != 2 {
		t.Errorf("second batch: %v %+v (want the failed runs retried, the others skipped)", err, o)
	}
}

// TestInterruptResumes cancels a batch while its second run trains, checks
// that nothing unfinished was written and that the run was checkpointed,
// then finishes the batch and compares it with an uninterrupted one.
func TestInterruptResumes(t *testing.T) {
	exps := compileSrc(t, strings.Replace(grid, "steps 30", "steps 150", 1))
	ref := t.TempDir()
	if o, _, err := run(t, exps, Options{Out: ref, Jobs: 1}); err != nil || o.Done != 4 {
		t.Fatalf("reference: %v %+v", err, o)
	}

	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	log := &watchLog{onLine: func(line string) {
		if strings.HasPrefix(line, "[2/4]") && strings.Contains(line, "training run-") {
			// Cancel once run 2 has saved a checkpoint.
			go func() {
				for !hasCheckpoint(out) {
					time.Sleep(2 * time.Millisecond)
				}
				cancel()
			}()
		}
	}}
	o, err := Run(ctx, exps, Options{Out: out, Jobs: 1, CheckpointEvery: 15, Log: log, Progress: "lines"})
	if !errors.Is(err, trainer.ErrInterrupted) || o.Done != 1 || o.Interrupted != 1 {
		t.Fatalf("interrupted batch: %v %+v\n%s", err, o, log)
	}
	if !strings.Contains(log.String(), "checkpointed at step") || !strings.Contains(log.String(), "interrupted: checkpointing the runs in flight") {
		t.Errorf("log does not say where the run was checkpointed:\n%s", log)
	}
	if rs, _ := table.ReadRuns(out); len(rs) != 1 {
		t.Errorf("after the interrupt the runs table has %d rows, want 1", len(rs))
	}
	o, text, err := run(t, exps, Options{Out: out, Jobs: 1, CheckpointEvery: 15})
	if err != nil || o.Done != 3 || o.Skipped != 1 {
		t.Fatalf("resumed batch: %v %+v\n%s", err, o, text)
	}
	if !strings.Contains(text, "resumed from its checkpoint at step") || !strings.Contains(text, ", resumed at step") {
		t.Errorf("the resumed batch does not say it resumed:\n%s", text)
	}
	runnertest.SameResults(t, out, ref)
	runnertest.AssertClean(t, out)
}

type watchLog struct {
	syncBuffer
	onLine  func(string)
	pending string
}

func (w *watchLog) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	w.pending += string(p)
	for {
		i := strings.IndexByte(w.pending, '\n')
		if i < 0 {
			break
		}
		w.onLine(w.pending[:i])
		w.pending = w.pending[i+1:]
	}
	return n, err
}

func hasCheckpoint(out string) bool {
	m, _ := filepath.Glob(filepath.Join(out, "checkpoints", "*", "run-*", "state.gob"))
	return len(m) > 0
}

func TestSelect(t *testing.T) {
	a := compileSrc(t, grid)[0]
	b := compileSrc(t, strings.Replace(strings.Replace(grid, "experiment grid", "experiment another", 1), "seeds [1, 2]", "seeds [1, 2, 3]", 1))[0]
	ids := func(runs []config.Run) []string {
		var s []string
		for _, r := range runs {
			s = append(s, r.Experiment+"/"+r.ID())
		}
		return s
	}
	whole, err := Select([]*compiler.Experiment{a, b}, Shard{})
	if err != nil || len(whole) != 10 {
		t.Fatalf("whole: %d runs, %v", len(whole), err)
	}
	// Duplicated experiments (the same file twice) give each run once.
	if twice, _ := Select([]*compiler.Experiment{a, b, a}, Shard{}); len(twice) != 10 {
		t.Errorf("duplicates: %d runs, want 10", len(twice))
	}
	for _, n := range []int{1, 2, 3, 4, 11} {
		var union []string
		for i := 0; i < n; i++ {
			s1, err := Select([]*compiler.Experiment{a, b}, Shard{i, n})
			if err != nil {
				t.Fatal(err)
			}
			// The slices do not depend on the order of the experiments.
			s2, _ := Select([]*compiler.Experiment{b, a}, Shard{i, n})
			if !slices.Equal(slices.Sorted(slices.Values(ids(s1))), slices.Sorted(slices.Values(ids(s2)))) {
				t.Errorf("shard %d/%d depends on the file order", i, n)
			}
			if len(s1) < 10/n || len(s1) > (10+n-1)/n {
				t.Errorf("shard %d/%d has %d runs: unbalanced", i, n, len(s1))
			}
			union = append(union, ids(s1)...)
		}
		if !slices.Equal(slices.Sorted(slices.Values(union)), slices.Sorted(slices.Values(ids(whole)))) {
			t.Errorf("the %d shards do not add up to the whole batch", n)
		}
	}
}

func TestParseShard(t *testing.T) {
	for s, want := range map[string]Shard{"0/3": {0, 3}, "2/3": {2, 3}, " 0/1 ": {0, 1}} {
		if got, err := ParseShard(s); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"3/3", "-1/3", "1", "a/b", "1/0", "0/0", "", "1/2/3"} {
		if _, err := ParseShard(s); err == nil {
			t.Errorf("ParseShard(%q): no error", s)
		}
	}
}

func TestSize(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(16))
	small := compileSrc(t, grid)[0].Runs // 4 runs of a few kFLOPs per step
	// 4 layers of d_model 128 on B32 x T64: 10.7 GFLOPs per step, 6 threads' worth.
	big := compileSrc(t, strings.NewReplacer("layers 1; heads 2; d_model 16", "layers 4; heads 4; d_model 128",
		"batch 4", "batch 32", "context 16", "context 64", "vocab: 16", "vocab: 256").Replace(grid))[0].Runs
	many := append(append([]config.Run{}, small...), small...)
	many = append(many, many...)
	many = append(many, many...) // 32
	t.Setenv("GOMLX_BACKEND", "")
	for _, tc := range []struct {
		name          string
		opts          Options
		runs          []config.Run
		jobs, threads int
		spec, note    string
	}{
		{"small runs: one thread each", Options{}, many, 16, 1, "go:parallelism=1", ""},
		{"fewer runs than cores: cores shared out", Options{}, small, 4, 4, "go:parallelism=4", ""},
		{"big runs: several threads each", Options{}, append(big, big...), 2, 8, "go:parallelism=8", ""},
		{"one big run: all cores", Options{}, big[:1], 1, 16, "go:parallelism=16", ""},
		{"explicit -j", Options{Jobs: 2}, many, 2, 8, "go:parallelism=8", ""},
		{"-j above the cores is lowered", Options{Jobs: 64}, many, 16, 1, "go:parallelism=1", "exceeds the 16 cores"},
		{"explicit parallelism", Options{Backend: "go:parallelism=4"}, many, 4, 4, "go:parallelism=4", ""},
		{"other go options kept", Options{Backend: "go:ops_sequential", Jobs: 4}, many, 4, 4, "go:ops_sequential,parallelism=4", ""},
		{"xla: one at a time", Options{Backend: "xla:cuda"}, many, 1, 0, "xla:cuda", ""},
	} {
		s := Size(tc.opts, tc.runs)
		if s.Jobs != tc.jobs || s.Threads != tc.threads || s.Spec != tc.spec || !strings.Contains(s.Note, tc.note) || (tc.note == "") != (s.Note == "") {
			t.Errorf("%s: got %+v, want %d jobs x %d threads, %s, note %q", tc.name, s, tc.jobs, tc.threads, tc.spec, tc.note)
		}
		if s.Threads > 0 && s.Jobs*s.Threads > Cores() {
			t.Errorf("%s: %d x %d exceeds %d cores", tc.name, s.Jobs, s.Threads, Cores())
		}
	}
}

func TestEstimate(t *testing.T) {
	// Worker 1 takes 3; worker 2 takes 1, 1, 1; then one of them takes 2.
	if got := schedule([]time.Duration{3, 1, 1, 1, 2}, 2); got != 5 {
		t.Errorf("schedule = %v, want 5", got)
	}
	if got := schedule([]time.Duration{3, 1, 1, 1}, 1); got != 6 {
		t.Errorf("schedule on one worker = %v, want 6", got)
	}
	runs := compileSrc(t, grid)[0].Runs // 30 steps, measured every 10: at 0, 10, 20, 30
	if n := measurements(runs[0]); n != 4 {
		t.Errorf("measurements = %d, want 4", n)
	}
	r := runs[0]
	r.Train.Steps = 35
	if n := measurements(r); n != 5 {
		t.Errorf("measurements (35 steps) = %d, want 5", n)
	}
	r.Measure.Every = 0
	if n := measurements(r); n != 2 {
		t.Errorf("measurements (every 0) = %d, want 2", n)
	}
	r.Train.Steps = 0 // a checkpoint measured as it is
	if n := measurements(r); n != 1 {
		t.Errorf("measurements (0 steps) = %d, want 1", n)
	}
	est, err := EstimateTime(context.Background(), runs, Options{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if est.Shapes != 1 || len(est.Runs) != 4 || est.Sizing.Jobs != 2 {
		t.Fatalf("%d shapes, %d runs, %d jobs; want 1 shape (only lr varies), 4 runs, 2 jobs", est.Shapes, len(est.Runs), est.Sizing.Jobs)
	}
	for _, re := range est.Runs {
		if re.Err != nil || re.Time <= 0 || re.Time != re.Setup+29*re.Step+3*re.Measure {
			t.Errorf("run estimate %+v", re)
		}
	}
	if est.Batch < 2*est.Runs[0].Time {
		t.Errorf("batch %v for 4 runs of %v on 2 workers", est.Batch, est.Runs[0].Time)
	}
}
