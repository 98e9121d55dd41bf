// Package runner executes the runs of compiled experiments as a batch: it
// skips finished runs, resumes interrupted ones, isolates failures, runs
// several at once, and writes each run's results as soon as it ends.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"time"

	"github.com/gomlx/compute"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/runtime/backend"
	"github.com/sinkrun/sinkrun/runtime/data"
	"github.com/sinkrun/sinkrun/runtime/trainer"
)

// Options configure a batch.
type Options struct {
	Out      string // results root
	Backend  string // backend spec ("" = $GOMLX_BACKEND or the pure-Go backend)
	Jobs     int    // runs at once (>= 1)
	Threads  int    // worker threads per run for the Go backend (0 = cores / jobs)
	Force    bool   // re-run finished runs
	FailFast bool   // stop at the first failed or diverged run
	Shard    Shard  // run only this slice of the batch
	// CheckpointEvery saves long runs every N steps (0 = every measurement).
	CheckpointEvery int
	Log             io.Writer
	GitRevision     string
}

// Shard selects the i-th of n deterministic slices of a batch (0 <= I < N).
type Shard struct{ I, N int }

// Outcome counts what happened to the runs of a batch.
type Outcome struct {
	Done, Skipped, Diverged, Failed int
	Runs                            []results.Run // every run of the batch (this shard), finished or skipped, in grid order
}

// Run executes every run of the experiments. It returns an error when the
// batch was interrupted (trainer.ErrInterrupted) or could not start; failed
// runs are counted in the outcome, not returned.
func Run(ctx context.Context, exps []*compiler.Experiment, opts Options) (Outcome, error) {
	if opts.Jobs < 1 {
		opts.Jobs = 1
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	var all []config.Run
	for _, e := range exps {
		all = append(all, e.Runs...)
	}
	runs := opts.Shard.pick(all)

	existing, err := previous(opts.Out)
	if err != nil {
		return Outcome{}, err
	}
	// Each worker gets its own backend sized to its share of the cores.
	spec := backend.Spec(opts.Backend, opts.threads())
	backends := make([]compute.Backend, opts.Jobs)
	for w := range backends {
		if backends[w], err = backend.Open(spec); err != nil {
			return Outcome{}, err
		}
		defer backends[w].Finalize()
	}

	b := &batch{opts: opts, spec: spec, cache: data.NewCache(), existing: existing,
		records: make([]*results.Run, len(runs))}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < opts.Jobs; w++ {
		wg.Add(1)
		go func(be compute.Backend) {
			defer wg.Done()
			for i := range work {
				if err := b.one(ctx, be, i, len(runs), runs[i]); err != nil {
					cancel()
				}
			}
		}(backends[w])
	}
feed:
	for i := range runs {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()

	out := b.outcome
	for _, r := range b.records {
		if r != nil {
			out.Runs = append(out.Runs, *r)
		}
	}
	switch {
	case b.interrupted:
		return out, trainer.ErrInterrupted
	case b.failFastHit != nil:
		return out, b.failFastHit
	}
	return out, nil
}

func (o Options) threads() int {
	if o.Threads > 0 {
		return o.Threads
	}
	n := goruntime.NumCPU() / o.Jobs
	if n < 1 {
		n = 1
	}
	return n
}

func (s Shard) pick(runs []config.Run) []config.Run {
	if s.N <= 1 {
		return runs
	}
	var out []config.Run
	for i, r := range runs {
		if i%s.N == s.I {
			out = append(out, r)
		}
	}
	return out
}

// previous reads the runs already recorded under the results root.
func previous(out string) (map[string]results.Run, error) {
	m := map[string]results.Run{}
	if _, err := os.Stat(filepath.Join(out, "runs")); errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	rs, err := results.ReadRuns(out)
	if err != nil {
		return nil, fmt.Errorf("reading earlier results in %s: %w", out, err)
	}
	for _, r := range rs {
		m[r.Experiment+"/"+r.ID] = r
	}
	return m, nil
}

type batch struct {
	opts     Options
	spec     string
	cache    *data.Cache
	existing map[string]results.Run

	mu          sync.Mutex
	outcome     Outcome
	records     []*results.Run
	interrupted bool
	failFastHit error
}

func (b *batch) logf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprintf(b.opts.Log, format+"\n", args...)
}

// one executes run i of n. It returns an error when the batch must stop.
func (b *batch) one(ctx context.Context, be compute.Backend, i, n int, run config.Run) error {
	id := run.ID()
	label := fmt.Sprintf("[%d/%d] %s %s", i+1, n, run.Experiment, describe(run))
	if prev, ok := b.existing[run.Experiment+"/"+id]; ok && !b.opts.Force && prev.Status != trainer.StatusFailed {
		b.logf("%s: already %s (run-%s), skipped; --force re-runs", label, prev.Status, id)
		b.record(i, prev, func(o *Outcome) { o.Skipped++ })
		return nil
	}
	ds, err := b.cache.Load(run.Data, run.SourceDir)
	if err != nil {
		res := failed(run, fmt.Errorf("loading data: %w", err), b.spec)
		return b.finish(i, label, res, nil, nil)
	}
	b.logf("%s: training run-%s (%d steps, data: %s)", label, id, run.Train.Steps, ds.Describe())
	ckpt := filepath.Join(b.opts.Out, "checkpoints", "experiment="+run.Experiment, "run-"+id)
	every := b.opts.CheckpointEvery
	if every == 0 {
		every = run.Measure.Every
	}
	lastLog := time.Now()
	res, err := trainer.Train(ctx, run, ds, trainer.Options{
		Backend: be, BackendName: b.spec, CheckpointDir: ckpt, CheckpointEvery: every,
		Progress: func(p trainer.Progress) {
			if time.Since(lastLog) < 10*time.Second && p.Step != p.Steps {
				return
			}
			lastLog = time.Now()
			eta := time.Duration(float64(p.Elapsed) / float64(p.Step) * float64(p.Steps-p.Step))
			b.logf("%s: step %d/%d loss %.4f %.0f tok/s eta %s", label, p.Step, p.Steps, p.Loss, p.TokensPerS, eta.Round(time.Second))
		},
	})
	if errors.Is(err, trainer.ErrInterrupted) {
		b.mu.Lock()
		b.interrupted = true
		b.mu.Unlock()
		b.logf("%s: interrupted; checkpointed, re-run the same command to resume", label)
		return err
	}
	res.Run.GitRevision = b.opts.GitRevision
	if err := b.finish(i, label, res.Run, res.Metrics, res.Heads); err != nil {
		return err
	}
	os.RemoveAll(ckpt)
	return nil
}

// finish writes a run's results and counts it. It returns an error when the
// batch must stop (fail-fast, or results could not be written).
func (b *batch) finish(i int, label string, r results.Run, metrics []results.Metric, heads []results.Head) error {
	if err := results.Write(b.opts.Out, r, metrics, heads); err != nil {
		b.logf("%s: writing results: %v", label, err)
		return err
	}
	switch r.Status {
	case trainer.StatusDone:
		b.logf("%s: done in %.1fs (%.0f ms/step): Sink_1 %.2f%%%s, val loss %.4f", label, r.WallSeconds, r.MsPerStep,
			r.FinalSink1, proxyMark(r.Sink1Proxy), r.FinalValLoss)
		b.record(i, r, func(o *Outcome) { o.Done++ })
		return nil
	case trainer.StatusDiverged:
		b.logf("%s: diverged: %s", label, r.Error)
		b.record(i, r, func(o *Outcome) { o.Diverged++ })
	default:
		b.logf("%s: FAILED: %s", label, r.Error)
		b.record(i, r, func(o *Outcome) { o.Failed++ })
	}
	if b.opts.FailFast {
		err := fmt.Errorf("%s: %s (--fail-fast)", label, r.Status)
		b.mu.Lock()
		b.failFastHit = err
		b.mu.Unlock()
		return err
	}
	return nil
}

func (b *batch) record(i int, r results.Run, count func(*Outcome)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.records[i] = &r
	count(&b.outcome)
}

func failed(run config.Run, err error, backendName string) results.Run {
	return results.Run{ID: run.ID(), Experiment: run.Experiment, Settings: config.Flatten(run), Varied: run.Varied,
		Status: trainer.StatusFailed, Error: err.Error(), DivergedStep: -1, StartedAt: time.Now().UTC(),
		Backend: backendName, ConfigJSON: run.JSON(), ConfigHash: run.Hash(), ToolVersion: config.Version}
}

func describe(run config.Run) string {
	s := ""
	for _, v := range run.Varied {
		s += v.Path + "=" + v.Value + " "
	}
	return s + fmt.Sprintf("seed=%d", run.Seed)
}

func proxyMark(p bool) string {
	if p {
		return " (proxy)"
	}
	return ""
}
