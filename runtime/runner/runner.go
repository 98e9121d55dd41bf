// Package runner executes the runs of compiled experiments as a batch: it
// skips finished runs, resumes interrupted ones, isolates failures, runs
// several at once, shows progress, and writes each run's results as soon as
// it ends.
//
// A batch is crash-safe: results are written with temp files and renames
// (package results), the runs file last, and a run's checkpoint is removed
// only after its results are in place. Killing the process at any moment and
// running the same command again loses no finished run, resumes the run that
// was in flight from its last checkpoint, and completes the batch.
//
// Any number of processes can share a batch: with fixed slices (Shard), or
// by claiming runs (Claim, package claim) until none is left.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/backend"
	"github.com/sinkrun/sinkrun/runtime/data"
	"github.com/sinkrun/sinkrun/runtime/runner/claim"
	"github.com/sinkrun/sinkrun/runtime/trainer"
)

// Options configure a batch.
type Options struct {
	Out     string // results root
	Backend string // backend spec ("" = $GOMLX_BACKEND or the pure-Go backend)
	// Jobs is the number of runs trained at once; 0 chooses it from the
	// machine and the runs (see Size).
	Jobs int
	// Threads is the worker threads per run of the Go backend; 0 = cores / Jobs.
	Threads  int
	Force    bool  // re-run finished runs
	FailFast bool  // stop at the first failed or diverged run
	Shard    Shard // run only this slice of the batch
	// Claim makes this process one of any number of workers sharing Out:
	// each run is claimed (under <Out>/claims) before it is trained, so it
	// is trained by one live worker, and taken over from a worker that
	// stopped refreshing its claim for Lease. A worker stops when every
	// run left is done or held by a live worker.
	Claim bool
	Lease time.Duration // 0: claim.DefaultLease
	// CheckpointEvery saves runs every N steps; < 0 = never; 0 = at every
	// measurement (every steps/10 when the run measures only at the end),
	// skipping those less than 30 s after the last one.
	CheckpointEvery int
	Log             io.Writer
	// Progress is "bar" (one updating line per run in flight and a batch
	// line, for terminals), "lines" (plain log lines, for CI and batch
	// logs) or "" / "auto": bar when Log is a terminal.
	Progress    string
	GitRevision string
	// KeepWeights keeps each finished run's final model under
	// WeightsDir(Out, run), for `sinkrun export`.
	KeepWeights bool
	// RunWritten, if set, is called after each run's results are written
	// (done, diverged or failed), from the goroutine that trained it: e.g.
	// to rewrite a report of the results directory. It must return soon.
	RunWritten func()
}

// Outcome counts what happened to the runs of a batch.
type Outcome struct {
	Total                           int // runs in the batch (this shard)
	Done, Skipped, Diverged, Failed int
	Interrupted                     int // runs stopped mid-way and checkpointed
	// Elsewhere counts the runs that other workers trained or are training
	// (with Claim).
	Elsewhere int
	// NotKept counts, with KeepWeights, the runs skipped because their
	// results existed, whose weights were not kept (they were trained
	// without KeepWeights).
	NotKept int
	Runs    []table.Run // every finished or skipped run, in grid order
}

// Run executes every run of the experiments (of opts.Shard). It returns
// trainer.ErrInterrupted when ctx was cancelled (the runs in flight are
// checkpointed), the error that stopped the batch with FailFast or when
// results could not be written, and nil otherwise: failed and diverged runs
// are counted in the outcome, not returned.
func Run(ctx context.Context, exps []*compiler.Experiment, opts Options) (Outcome, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	runs, err := Select(exps, opts.Shard)
	if err != nil {
		return Outcome{}, err
	}
	// With claims, each run's runs file is stamped before the results are
	// read: a run another worker finishes between the two is then seen as
	// written since the batch started, not trained twice.
	var stamps map[int]stamp
	if opts.Claim {
		stamps = runsStamps(opts.Out, runs)
	}
	existing, err := previous(opts.Out)
	if err != nil {
		return Outcome{}, err
	}
	b := &batch{opts: opts, runs: runs, cache: data.NewCache(), records: make([]*table.Run, len(runs)),
		disp: newDisplay(opts.Log, opts.Progress), trainedAgain: map[int]bool{}}
	b.outcome.Total = len(runs)
	b.disp.batchLine = b.batchLine

	var todo []int
	again := 0 // runs with results that --force trains again
	for i, run := range runs {
		prev, ok := existing[run.Experiment+"/"+run.ID()]
		if ok && opts.Force && prev.Status != table.StatusFailed {
			again++
			b.trainedAgain[i] = true
		}
		if ok && !opts.Force && prev.Status != table.StatusFailed {
			count := func(o *Outcome) { o.Skipped++ }
			kept := ""
			if opts.KeepWeights && prev.Status == table.StatusDone && !weightsKept(opts.Out, run) {
				kept = "; its weights were not kept when it trained, and a skipped run keeps nothing"
				count = func(o *Outcome) { o.Skipped++; o.NotKept++ }
			}
			b.disp.event(fmt.Sprintf("%s: already %s (run-%s), skipped%s; --force re-runs", b.label(i), prev.Status, prev.ID, kept))
			b.record(i, prev, count)
			// A crash after the results were written but before the
			// checkpoint was removed leaves the checkpoint behind.
			removeCheckpoint(b.checkpointDir(run))
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return b.result(), nil
	}
	var q queue
	if opts.Claim {
		cq, err := b.claimQueue(todo, stamps)
		if err != nil {
			return b.result(), err
		}
		defer cq.close()
		q = cq
	} else {
		// Only this process writes these runs' files (shards are
		// disjoint): a temp file among them was left by a killed one.
		removeTemps(opts.Out, runs)
		q = &listQueue{todo: todo}
	}
	todoRuns := make([]config.Run, len(todo))
	for k, i := range todo {
		todoRuns[k] = runs[i]
	}
	size := Size(opts, todoRuns)
	b.spec = size.Spec
	if size.Note != "" {
		b.disp.event(size.Note)
	}
	threads := ""
	if size.Threads > 0 {
		threads = fmt.Sprintf(", %d thread%s each", size.Threads, plural(size.Threads))
	}
	have := fmt.Sprintf("%d have results", len(runs)-len(todo))
	if again > 0 {
		have = fmt.Sprintf("%d with results, trained again: --force", again)
	}
	b.disp.event(fmt.Sprintf("%d run%s to train (%s), %d at once%s on %d core%s, backend %s",
		len(todo), plural(len(todo)), have, size.Jobs, threads, Cores(), plural(Cores()), size.Spec))

	// Each worker gets its own backend sized to its share of the cores.
	backends := make([]compute.Backend, size.Jobs)
	for w := range backends {
		if backends[w], err = backend.Open(size.Spec); err != nil {
			return b.result(), err
		}
		defer backends[w].Finalize()
	}
	b.disp.plan(todoRuns, todo)

	stopCtx, stop := context.WithCancel(ctx)
	defer stop()
	// The interruption is announced once: when it happens, or at the
	// latest before the batch reports. (A goroutine choosing between "ctx
	// done" and "batch finished" would drop the line whenever both are
	// ready, as when the signal comes before or between runs.)
	announce := sync.OnceFunc(func() {
		b.disp.event("interrupted: checkpointing the runs in flight (interrupt again to quit at once)")
	})
	defer context.AfterFunc(ctx, announce)()
	var wg sync.WaitGroup
	for _, be := range backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for stopCtx.Err() == nil { // the batch is stopping: start nothing new
				t, ok, err := q.next()
				if err == nil && ok {
					err = b.one(stopCtx, be, t)
				}
				if err != nil {
					b.stopWith(err)
					stop()
				}
				if !ok {
					return
				}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		announce()
	}
	q.done()
	b.disp.close()

	out := b.result()
	switch {
	case ctx.Err() != nil:
		return out, trainer.ErrInterrupted
	case b.stopErr != nil:
		return out, b.stopErr
	}
	return out, nil
}

// previous reads the runs already recorded under the results root.
func previous(out string) (map[string]table.Run, error) {
	m := map[string]table.Run{}
	if _, err := os.Stat(filepath.Join(out, table.TableRuns)); errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	rs, err := table.ReadRuns(out)
	for try := 0; err != nil && try < 3; try++ {
		// Another shard re-running a run with --force removes its runs file
		// before writing it again: a file may vanish between the listing
		// and the reading.
		time.Sleep(100 * time.Millisecond)
		rs, err = table.ReadRuns(out)
	}
	if err != nil {
		return nil, fmt.Errorf("reading earlier results in %s: %w", out, err)
	}
	for _, r := range rs {
		m[r.Experiment+"/"+r.ID] = r
	}
	return m, nil
}

type batch struct {
	opts  Options
	runs  []config.Run
	spec  string
	cache *data.Cache
	disp  *display
	board *claim.Board // with opts.Claim

	mu        sync.Mutex
	outcome   Outcome
	records   []*table.Run
	stopErr   error
	described map[string]bool // data descriptions printed
	// trainedAgain holds the runs that had results and are trained again
	// (Force): interrupted, they keep those results until they finish.
	trainedAgain map[int]bool
}

// firstUse reports whether the data described so is met for the first time
// in this batch.
func (b *batch) firstUse(description string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.described[description] {
		return false
	}
	if b.described == nil {
		b.described = map[string]bool{}
	}
	b.described[description] = true
	return true
}

// result is the outcome with the runs recorded so far, in grid order.
func (b *batch) result() Outcome {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.outcome
	for _, r := range b.records {
		if r != nil {
			out.Runs = append(out.Runs, *r)
		}
	}
	return out
}

func (b *batch) label(i int) string {
	run := b.runs[i]
	return fmt.Sprintf("[%d/%d] %s %s", i+1, len(b.runs), run.Experiment, describe(run))
}

func (b *batch) checkpointDir(run config.Run) string {
	return filepath.Join(table.PartitionDir(b.opts.Out, "checkpoints", run.Experiment), "run-"+run.ID())
}

// WeightsDir is where a finished run's final model is kept (Options.KeepWeights):
// <out>/weights/experiment=<name>/run-<id>, in model.Save's format.
func WeightsDir(out string, run config.Run) string {
	return filepath.Join(table.PartitionDir(out, "weights", run.Experiment), "run-"+run.ID())
}

// weightsKept reports whether the run's final model was kept (KeepWeights).
func weightsKept(out string, run config.Run) bool {
	_, err := os.Stat(filepath.Join(WeightsDir(out, run), "model.json"))
	return err == nil
}

// defaultCheckpointGap is the least time between two checkpoints of a run
// when the interval is the default: short runs, whose steps take
// milliseconds, would otherwise spend much of their time saving.
const defaultCheckpointGap = 30 * time.Second

// checkpointing is a run's checkpoint interval in steps (0 = never), and the
// least time between two checkpoints.
func (b *batch) checkpointing(run config.Run) (int, time.Duration) {
	switch every := b.opts.CheckpointEvery; {
	case every < 0:
		return 0, 0
	case every > 0:
		return every, 0
	case run.Measure.Every > 0:
		return run.Measure.Every, defaultCheckpointGap
	default:
		return max(1, run.Train.Steps/10), defaultCheckpointGap
	}
}

func (b *batch) stopWith(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopErr == nil {
		b.stopErr = err
	}
}

// one trains a run. It returns an error when the batch must stop.
func (b *batch) one(ctx context.Context, be compute.Backend, t task) error {
	i, run := t.i, b.runs[t.i]
	id := run.ID()
	label := b.label(i)
	if t.claim != nil {
		defer b.release(label, t.claim)
		var stop context.CancelCauseFunc
		ctx, stop = b.hold(ctx, label, run, t.claim)
		defer stop(nil)
	}
	ds, err := b.cache.Load(run.Data, run.SourceDir)
	if err != nil {
		return b.finish(i, label, trainer.Result{Run: failed(run, fmt.Errorf("loading data: %w", err), b.spec)}, t.claim)
	}
	// The data is described once, before the first run that reads it:
	// runs of a grid mostly share it, and the description is long.
	if b.firstUse(ds.Describe()) {
		b.disp.event("data: " + ds.Describe())
	}
	if run.Train.Steps == 0 { // a pretrained checkpoint, measured as it is
		b.disp.event(fmt.Sprintf("%s: measuring run-%s (checkpoint %s)", label, id, run.Model.Checkpoint))
	} else {
		b.disp.event(fmt.Sprintf("%s: training run-%s (%d steps)", label, id, run.Train.Steps))
	}
	ckpt := b.checkpointDir(run)
	trainCkpt := ckpt
	if t.claim != nil {
		if trainCkpt, err = adoptCheckpoint(ckpt, t.claim); err != nil {
			b.disp.event(fmt.Sprintf("%s: %v; the run starts afresh", label, err))
		}
	}
	every, gap := b.checkpointing(run)
	weights := ""
	if b.opts.KeepWeights {
		weights = WeightsDir(b.opts.Out, run)
	}
	b.disp.start(i, label)
	res, err := trainer.Train(ctx, run, ds, trainer.Options{
		Backend: be, BackendName: b.spec, CheckpointDir: trainCkpt, CheckpointEvery: every, CheckpointMinInterval: gap,
		FinalWeightsDir: weights,
		Progress:        func(p trainer.Progress) { b.disp.progress(i, p) },
		Warn:            func(msg string) { b.disp.event(label + ": " + msg) },
	})
	b.disp.end(i)
	if t.claim != nil && t.claim.IsLost() {
		b.lost(label, t.claim)
		return nil
	}
	if errors.Is(err, trainer.ErrInterrupted) {
		b.mu.Lock()
		b.outcome.Interrupted++
		b.mu.Unlock()
		where := "not checkpointed (no step finished)"
		if res.Stopped > 0 {
			where = fmt.Sprintf("checkpointed at step %d of %d", res.Stopped, run.Train.Steps)
		}
		if t.claim != nil {
			if err := returnCheckpoint(trainCkpt, ckpt); err != nil {
				where += fmt.Sprintf(" (but %v)", err)
			}
		}
		resume := "; running the batch again resumes it"
		switch {
		case b.trainedAgain[i] && res.Stopped == 0:
			resume = "; it keeps its earlier results (the batch run again with --force starts it afresh)"
		case b.trainedAgain[i]:
			resume = "; it keeps its earlier results until it finishes: the batch run again with --force resumes it (without --force it is skipped)"
		case res.Stopped == 0:
			resume = "; running the batch again starts it afresh"
		}
		b.disp.event(fmt.Sprintf("%s: interrupted, %s%s", label, where, resume))
		return nil
	}
	res.Run.GitRevision = b.opts.GitRevision
	if err := b.finish(i, label, res, t.claim); err != nil || (t.claim != nil && t.claim.IsLost()) {
		return err
	}
	removeCheckpoint(ckpt)
	return nil
}

// hold starts a claimed run: it says when the run was taken over from a
// dead worker, removes the temp files such a worker left, and returns a
// context that is cancelled when the claim is lost.
func (b *batch) hold(ctx context.Context, label string, run config.Run, c *claim.Claim) (context.Context, context.CancelCauseFunc) {
	if c.From != "" {
		b.disp.event(fmt.Sprintf("%s: taking run-%s over from %s, whose claim was not refreshed for over %v",
			label, run.ID(), c.From, b.board.Lease()))
	}
	// The run is this worker's now: a temp file of its results was left
	// by a worker that died.
	removeTemps(b.opts.Out, []config.Run{run})
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-c.Lost():
			cancel(errClaimLost)
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// finish writes a run's results and counts it. It returns an error when the
// batch must stop (fail-fast, or results could not be written). A run whose
// claim was lost is not written: its new holder writes it.
func (b *batch) finish(i int, label string, res trainer.Result, c *claim.Claim) error {
	r := res.Run
	if c != nil && !c.Check() {
		b.lost(label, c)
		return nil
	}
	if err := table.WriteWithMaps(b.opts.Out, r, res.Metrics, res.Heads, res.Maps); err != nil {
		b.disp.event(fmt.Sprintf("%s: writing results: %v", label, err))
		return err
	}
	var stop error
	switch r.Status {
	case table.StatusDone:
		b.record(i, r, func(o *Outcome) { o.Done++ })
		pace := "measured only"
		if r.Steps > 0 {
			pace = fmt.Sprintf("%.0f ms/step", r.MsPerStep)
		}
		b.disp.event(fmt.Sprintf("%s: done in %s (%s%s%s): %s, val loss %.4f", label,
			roundDur(time.Duration(r.WallSeconds*float64(time.Second))), pace, resumedText(res), checkpointText(res),
			sinkFigures(res.Metrics), r.Final("final_val_loss").Value))
	case table.StatusDiverged:
		b.record(i, r, func(o *Outcome) { o.Diverged++ })
		b.disp.event(fmt.Sprintf("%s: diverged at step %d: %s", label, r.DivergedStep, r.Error))
	default:
		b.record(i, r, func(o *Outcome) { o.Failed++ })
		b.disp.event(fmt.Sprintf("%s: FAILED: %s", label, r.Error))
	}
	if r.Status != table.StatusDone && b.opts.FailFast {
		stop = fmt.Errorf("%s: %s (--fail-fast)", label, r.Status)
		b.disp.event("stopping the batch (--fail-fast); runs in flight are checkpointed")
	}
	b.disp.finished(i)
	if b.opts.RunWritten != nil {
		b.opts.RunWritten()
	}
	return stop
}

// lost reports a run whose claim another worker took over.
func (b *batch) lost(label string, c *claim.Claim) {
	b.mu.Lock()
	b.outcome.Elsewhere++
	b.mu.Unlock()
	b.disp.event(fmt.Sprintf("%s: another worker took this run over (this one did not refresh its claim for %v: stopped, or cut off from %s); its results are left to that worker",
		label, b.board.Lease(), b.opts.Out))
}

// release gives a claim up: the run is finished, interrupted (and
// checkpointed: the next worker resumes it) or lost.
func (b *batch) release(label string, c *claim.Claim) {
	if err := c.Release(); err != nil {
		b.disp.event(fmt.Sprintf("%s: refreshing or releasing its claim: %v", label, err))
	}
}

func (b *batch) record(i int, r table.Run, count func(*Outcome)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.records[i] = &r
	count(&b.outcome)
}

// batchLine is the batch's state in one line.
func (b *batch) batchLine(running int, elapsed, eta time.Duration) string {
	b.mu.Lock()
	o := b.outcome
	b.mu.Unlock()
	s := fmt.Sprintf("batch: %d of %d run%s finished (%d done, %d skipped, %d diverged, %d failed)",
		o.Done+o.Skipped+o.Diverged+o.Failed, o.Total, plural(o.Total), o.Done, o.Skipped, o.Diverged, o.Failed)
	if o.Elsewhere > 0 {
		s += fmt.Sprintf(", %d trained by other workers", o.Elsewhere)
	}
	if running > 0 {
		s += fmt.Sprintf(", %d running", running)
	}
	if elapsed > 0 {
		s += ", " + roundDur(elapsed).String() + " elapsed"
	}
	if eta > 0 {
		s += ", ETA " + roundDur(eta).String()
	}
	return s
}

// removeCheckpoint removes a run's checkpoint, the checkpoints of its
// claims (see adoptCheckpoint), and the directories above them that it
// leaves empty.
func removeCheckpoint(dir string) {
	for _, d := range append([]string{dir, dir + ".tmp", dir + ".old"}, claimCheckpoints(dir)...) {
		os.RemoveAll(d)
	}
	// Fails harmlessly while other runs' checkpoints are there.
	if os.Remove(filepath.Dir(dir)) == nil {
		os.Remove(filepath.Dir(filepath.Dir(dir)))
	}
}

// removeTemps removes the temporary files that a killed process left in the
// partitions of these runs. The caller makes sure that no live process
// writes these runs' files.
func removeTemps(out string, runs []config.Run) {
	mine := map[string]bool{}
	exps := map[string]bool{}
	for _, r := range runs {
		mine[r.Experiment+"/.run-"+r.ID()+".parquet."] = true
		exps[r.Experiment] = true
	}
	for exp := range exps {
		for _, tbl := range []string{table.TableRuns, table.TableMetrics, table.TableHeads} {
			dir := table.PartitionDir(out, tbl, exp)
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				name := e.Name()
				if !strings.HasSuffix(name, ".tmp") {
					continue
				}
				if k := strings.Index(name, ".parquet."); k > 0 && mine[exp+"/"+name[:k+len(".parquet.")]] {
					os.Remove(filepath.Join(dir, name))
				}
			}
		}
	}
}

func failed(run config.Run, err error, backendName string) table.Run {
	r := table.NewRun(run, backendName, time.Now())
	r.Status, r.Error = table.StatusFailed, err.Error()
	return r
}

func describe(run config.Run) string {
	s := ""
	for _, v := range run.Varied {
		s += v.Path + "=" + v.Value + " "
	}
	return s + fmt.Sprintf("seed=%d", run.Seed)
}

// sinkFigures is every sink score a finished run measured, at its last
// measurement and first eps (as the catalogue's final columns read them):
// Sink* (the slot's score) where the model has a slot, then Sink_k for each
// measured position k, e.g. "Sink_1 95.00%, Sink_2 0.40%"; "(proxy)" marks
// proxy scores.
func sinkFigures(metrics []table.Metric) string {
	values := table.Values(metrics)
	var ks []int
	for _, v := range values {
		if k, ok := v.At.Int(config.CoordK); ok && v.Metric == config.MetricSink && !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	var parts []string
	proxy := false
	for _, k := range ks {
		v, p, ok := config.Pick(values, config.MetricSink, config.Point{config.CoordK: k}, []string{config.CoordEps}, config.Mean)
		if !ok {
			continue
		}
		proxy = proxy || p
		name := fmt.Sprintf("Sink_%d", k)
		if k == 0 {
			name = "Sink*"
		}
		parts = append(parts, fmt.Sprintf("%s %.2f%%", name, v))
	}
	if len(parts) == 0 {
		return "no sink score"
	}
	s := strings.Join(parts, ", ")
	if proxy {
		s += " (proxy)"
	}
	return s
}

func resumedText(res trainer.Result) string {
	if res.Resumed > 0 {
		return fmt.Sprintf(", resumed at step %d", res.Resumed)
	}
	return ""
}

func checkpointText(res trainer.Result) string {
	if res.Checkpoints > 0 {
		return fmt.Sprintf(", %d checkpoint%s in %s", res.Checkpoints, plural(res.Checkpoints), res.CheckpointTime.Round(time.Millisecond))
	}
	return ""
}

// roundDur rounds a duration for display.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= 10*time.Second:
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
