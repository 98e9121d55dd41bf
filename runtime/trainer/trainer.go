// Package trainer runs one training run end to end: it builds the model,
// trains it on its data, probes it every N steps, and turns what it measured
// into result rows. It knows nothing about grids, caching or files other than
// its own checkpoint: the batch runner (package runner) does that.
package trainer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/gomlx/compute"

	"github.com/sinkrun/sinkrun/compiler/model"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/data"
	"github.com/sinkrun/sinkrun/runtime/measure"
)

// ErrInterrupted is returned when the context is cancelled mid-run; the run
// is checkpointed (when a checkpoint directory is set) and can resume.
var ErrInterrupted = errors.New("interrupted")

// Options are the per-run knobs that are not part of the run's identity.
type Options struct {
	Backend     compute.Backend
	BackendName string
	// CheckpointDir, if set, is where the run saves its state every
	// CheckpointEvery steps and resumes from.
	CheckpointDir   string
	CheckpointEvery int
	// CheckpointMinInterval skips a periodic checkpoint when the last one
	// is more recent than this (0: never skip). Where checkpoints fall does
	// not change the results: a run resumes from any of them bit for bit.
	CheckpointMinInterval time.Duration
	// Progress, if set, is called after every step.
	Progress func(Progress)
	// Warn, if set, receives problems that cost time but not results (a
	// checkpoint that could not be saved or read).
	Warn func(string)
	// FinalWeightsDir, if set, is where a run that finishes saves its final
	// model (model.Save), for export (see final.go).
	FinalWeightsDir string
}

// Progress is a snapshot of a run in flight.
type Progress struct {
	Step, Steps int
	// Start is the step this process started from (> 0 after a resume).
	Start      int
	Loss       float64
	TokensPerS float64       // training tokens per second in this process
	Elapsed    time.Duration // wall time in this process
	ETA        time.Duration // at this process's pace so far
	// Measured says the run has measured its sink (at step 0 or since):
	// Sink1 is then Sink_1 in % at the first eps at the latest measurement,
	// and SinkSlot the slot column's score (Sink*), NaN without a slot.
	// SinkProxy marks proxy scores.
	Measured        bool
	Sink1, SinkSlot float64
	SinkProxy       bool
}

// Result is everything one run produced.
type Result struct {
	Run     table.Run
	Metrics []table.Metric
	Heads   []table.Head
	// Maps is the attention map of probe sequence 0 at the final
	// measurement step: every layer, head and visible (query, key) pair.
	Maps []table.Map
	// Resumed is the step the run resumed from (0: it started afresh).
	Resumed int
	// Stopped is the step an interrupted run stopped (and was checkpointed) at.
	Stopped int
	// Checkpoints is how many checkpoints this process saved, taking
	// CheckpointTime in all.
	Checkpoints    int
	CheckpointTime time.Duration
}

// Train trains one run. It returns a Result for done, diverged and failed
// runs alike (failures are recorded, not returned), and an error only when
// the run was interrupted or its data could not be prepared.
func Train(ctx context.Context, run config.Run, ds *data.Dataset, opts Options) (res Result, err error) {
	t := &training{run: run, ds: ds, opts: opts, id: run.ID(), began: time.Now()}
	t.lastCkpt = t.began
	t.rec = table.NewRun(run, opts.BackendName, t.began)
	t.rec.Status = table.StatusDone // until it diverges or fails
	defer func() {
		// GoMLX reports errors by panic: a panic anywhere in this run becomes
		// a recorded failure, and the batch goes on.
		if r := recover(); r != nil {
			t.fail(fmt.Errorf("panic: %v\n%s", r, firstLines(string(debug.Stack()), 12)))
		}
		res, err = t.result(), t.interrupted
	}()
	t.train(ctx)
	return
}

type training struct {
	run  config.Run
	ds   *data.Dataset
	opts Options
	id   string

	m           *model.Model
	rec         table.Run
	metrics     []table.Metric
	heads       []table.Head
	maps        []table.Map // attention map of probe sequence 0, final measurement only
	interrupted error
	trainTime   time.Duration // time inside train steps only, over every process that ran this run
	stepsRun    int           // train steps timed in trainTime
	began       time.Time     // when this process started the run
	wallBefore  time.Duration // wall time spent on the run by earlier processes (from the checkpoint)
	resumed     int
	stopped     int
	ckpts       int
	ckptTime    time.Duration
	lastCkpt    time.Time // when the last checkpoint was saved (or the run started in this process)
	// latest are the final columns as of the last measurement (nil before
	// one): the sink figure of the progress line.
	latest map[string]config.FinalValue
}

func (t *training) warn(format string, args ...any) {
	if t.opts.Warn != nil {
		t.opts.Warn(fmt.Sprintf(format, args...))
	}
}

func (t *training) fail(err error) {
	t.rec.Status = table.StatusFailed
	t.rec.Error = err.Error()
}

func (t *training) train(ctx context.Context) {
	run := t.run
	m, err := t.newModel()
	if err != nil {
		t.fail(fmt.Errorf("building the model: %w", err))
		return
	}
	t.m = m
	t.rec.Params = m.NumParams()

	B, T := run.Train.Batch, run.Data.Context
	tokensPerStep := int64(B * T)
	probe, err := t.ds.ProbeFor(run.Measure) // natural, random or repeated (measure.probe)
	if err != nil {
		t.fail(fmt.Errorf("building the probe set: %w", err))
		return
	}
	val := t.ds.ValBatches(run.Measure.ValBatches, B, T)

	start := 0
	if t.opts.CheckpointDir != "" {
		s, err := t.restore()
		if err != nil {
			// A checkpoint is only a shortcut: start afresh on a new model
			// (a failed Load may have changed some variables).
			t.warn("cannot resume from %s (%v); starting afresh", t.opts.CheckpointDir, err)
			if t.m, err = t.newModel(); err != nil {
				t.fail(fmt.Errorf("building the model: %w", err))
				return
			}
			m = t.m
		}
		start = s
	}
	t.resumed = start
	if start > 0 {
		t.latest = table.FinalsOf(t.metrics) // the checkpoint's measurements
	}
	if start == 0 {
		// Step 0 is the untrained model: the baseline of every emergence curve.
		if !t.measure(0, 0, probe, val) {
			return
		}
	}

	began := time.Now()
	for step := start; step < run.Train.Steps; step++ {
		if ctx.Err() != nil {
			t.checkpoint(step)
			t.interrupted, t.stopped = ErrInterrupted, step
			return
		}
		// Each step's batch is a pure function of (seed, step), so a resumed
		// run sees exactly the batches an uninterrupted one would.
		rng := rand.New(rand.NewPCG(uint64(run.Seed), uint64(step)))
		batch := t.ds.TrainBatch(rng, B, T)
		t0 := time.Now()
		loss, err := m.TrainStep(batch, B, step)
		t.trainTime += time.Since(t0)
		t.stepsRun++
		if err != nil {
			t.fail(fmt.Errorf("step %d: %w", step, err))
			return
		}
		done := int64(step+1) * tokensPerStep
		t.add(step+1, done, config.MetricValue{Metric: config.MetricTrainLoss, Value: loss})
		t.add(step+1, done, config.MetricValue{Metric: config.MetricLR, Value: m.LearningRate(step)})
		if t.diverged("training", loss, step+1, done) {
			return
		}
		last := step+1 == run.Train.Steps
		if last || (run.Measure.Every > 0 && (step+1)%run.Measure.Every == 0) {
			if !t.measure(step+1, done, probe, val) {
				return
			}
		}
		// After the step's measurement: the sink figure is the latest.
		if p := t.opts.Progress; p != nil {
			el := time.Since(began)
			n := step + 1 - start
			p(Progress{Step: step + 1, Steps: run.Train.Steps, Start: start, Loss: loss, Elapsed: el,
				TokensPerS: float64(int64(n)*tokensPerStep) / el.Seconds(),
				ETA:        time.Duration(float64(el) / float64(n) * float64(run.Train.Steps-step-1)),
				Measured:   t.latest != nil, Sink1: t.latest["final_sink1"].Value, SinkSlot: t.latest["final_sink_slot"].Value,
				SinkProxy: t.latest["final_sink1"].Proxy})
		}
		if t.opts.CheckpointEvery > 0 && (step+1)%t.opts.CheckpointEvery == 0 && !last &&
			time.Since(t.lastCkpt) >= t.opts.CheckpointMinInterval {
			t.checkpoint(step + 1)
		}
	}
	t.rec.Steps = int64(run.Train.Steps)
	t.rec.TokensSeen = int64(run.Train.Steps) * tokensPerStep
	t.keepFinalWeights()
}

// diverged records the run as diverged when a loss is NaN or infinite.
func (t *training) diverged(what string, loss float64, step int, tokens int64) bool {
	if !math.IsNaN(loss) && !math.IsInf(loss, 0) {
		return false
	}
	t.rec.Status = table.StatusDiverged
	t.rec.DivergedStep = int64(step)
	t.rec.Error = fmt.Sprintf("%s loss became %v at step %d", what, loss, step)
	t.rec.Steps, t.rec.TokensSeen = int64(step), tokens
	return true
}

// measure runs the probe pass and the validation loss at a step and records
// every metric. It reports false when the run failed.
func (t *training) measure(step int, tokens int64, probe []int32, val [][]int32) bool {
	run := t.run
	vl := 0.0
	for _, b := range val {
		l, err := t.m.EvalLoss(b, run.Train.Batch)
		if err != nil {
			t.fail(fmt.Errorf("validation at step %d: %w", step, err))
			return false
		}
		vl += l
	}
	vl /= float64(len(val))
	t.add(step, tokens, config.MetricValue{Metric: config.MetricValLoss, Value: vl})
	if t.diverged("validation", vl, step, tokens) {
		return false
	}

	out, err := t.m.Probe(probe, run.Measure.ProbeSequences, run.Measure.ProbeLength)
	if err != nil {
		t.fail(fmt.Errorf("probe at step %d: %w", step, err))
		return false
	}
	// measure.sink plus the fixed token's position and the position after a
	// random span; the proxy normalisation of the attention op.
	rep, err := measure.Analyze(measure.Probe{
		N: out.N, T: out.T, Layers: out.Layers, Heads: out.Heads, Slots: out.Slots, Visible: out.Visible, Documents: out.Documents,
		Attention: out.Attention, Hidden: out.Hidden, Keys: out.Keys, Values: out.Values,
	}, measure.OptionsFor(run))
	if err != nil {
		t.fail(fmt.Errorf("measuring at step %d: %w", step, err))
		return false
	}
	var now []config.StepValue
	for _, v := range rep.Values() {
		t.add(step, tokens, v)
		now = append(now, config.StepValue{Step: int64(step), MetricValue: v})
	}
	// The runs table's final columns as of this measurement, for the
	// progress line (its sink figure).
	t.latest = config.Finals(now)
	for _, h := range rep.HeadAlpha {
		t.heads = append(t.heads, table.Head{RunID: t.id, Step: int64(step), TokensSeen: tokens,
			Layer: int32(h.Layer), Head: int32(h.Head), K: int32(h.K), Alpha: h.Alpha, SinkPercent: h.SinkPercent, IsProxy: h.Proxy})
	}
	if step == run.Train.Steps {
		t.maps = probeMaps(t.id, step, out)
	}
	return true
}

// probeMaps is the attention map of probe sequence 0 for every layer and
// head: one row per query and visible key (masked keys, weight 0 by
// construction, are left out). Key is the token position, -1 for the slot.
func probeMaps(id string, step int, out *model.ProbeOutput) []table.Map {
	if out == nil || out.N == 0 {
		return nil
	}
	T, S, H := out.T, out.Slots, out.Heads
	cols := S + T
	var rows []table.Map
	for l := 0; l < out.Layers && l < len(out.Attention); l++ {
		att := out.Attention[l]
		var vis []bool
		if l < len(out.Visible) {
			vis = out.Visible[l]
		}
		for h := 0; h < H; h++ {
			base := h * T * cols // sequence 0
			for q := 0; q < T; q++ {
				for c := 0; c < cols; c++ {
					if vis != nil && !vis[q*cols+c] {
						continue
					}
					if out.Documents != nil && c >= S && out.Documents[c-S] != out.Documents[q] {
						continue // another document's key (sequence 0's indices)
					}
					i := base + q*cols + c
					if i >= len(att) {
						continue
					}
					rows = append(rows, table.Map{RunID: id, Step: int64(step), Layer: int32(l), Head: int32(h),
						Query: int32(q), Key: int32(c - S), Weight: float64(att[i])})
				}
			}
		}
	}
	return rows
}

// add records a value of the metric catalogue measured at a step.
func (t *training) add(step int, tokens int64, v config.MetricValue) {
	t.metrics = append(t.metrics, table.MetricRow(t.id, int64(step), tokens, v))
}

// wall is the wall time spent on the run so far, in every process.
func (t *training) wall() time.Duration { return t.wallBefore + time.Since(t.began) }

func (t *training) result() Result {
	// The runs table's final_* columns: each metric's value at the last
	// measurement, from the rows themselves (config.Finals).
	t.rec.Finals = table.FinalsOf(t.metrics)
	t.rec.WallSeconds = t.wall().Seconds()
	if t.stepsRun > 0 {
		t.rec.MsPerStep = t.trainTime.Seconds() * 1000 / float64(t.stepsRun)
	}
	return Result{Run: t.rec, Metrics: t.metrics, Heads: t.heads, Maps: t.maps, Resumed: t.resumed, Stopped: t.stopped,
		Checkpoints: t.ckpts, CheckpointTime: t.ckptTime}
}

func firstLines(s string, n int) string {
	lines := 0
	for i, c := range s {
		if c == '\n' {
			lines++
			if lines == n {
				return s[:i]
			}
		}
	}
	return s
}
