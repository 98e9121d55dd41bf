package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gomlx/compute"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/backend"
	"github.com/sinkrun/sinkrun/runtime/data"
	"github.com/sinkrun/sinkrun/runtime/trainer"
)

// Estimate is how long a batch would take on this machine, from a short
// calibration: each distinct shape of run (model, batch, context, probe) is
// trained for CalibrationSteps steps on the backend, sized as the batch
// would be.
type Estimate struct {
	Sizing Sizing
	Runs   []RunEstimate // in the order given
	// Batch is the wall time of the batch with Sizing.Jobs runs at once,
	// each run going to the first free worker in grid order.
	Batch time.Duration
	// Data is the time to load the runs' data, once per corpus (part of Batch).
	Data        time.Duration
	Shapes      int           // distinct shapes calibrated
	Calibration time.Duration // time spent calibrating
}

// RunEstimate is one run's estimated wall time: Setup (model, graph
// compilation, the first step and the step-0 measurement), then Step per
// further training step and Measure per further measurement.
type RunEstimate struct {
	Run                  config.Run
	Time                 time.Duration
	Setup, Step, Measure time.Duration
	Steps, Measurements  int
	Err                  error // the calibration failed (the run would likely fail too)
}

// CalibrationSteps is the length of a calibration run: the first step
// compiles the graph, the others time a step.
const CalibrationSteps = 4

// EstimateTime calibrates the runs' shapes and estimates the batch. It uses
// opts.Backend, Jobs and Threads as Run does; it writes nothing.
func EstimateTime(ctx context.Context, runs []config.Run, opts Options) (Estimate, error) {
	began := time.Now()
	est := Estimate{Sizing: Size(opts, runs)}
	if len(runs) == 0 {
		return est, nil
	}
	be, err := backend.Open(est.Sizing.Spec)
	if err != nil {
		return est, err
	}
	defer be.Finalize()
	cache := data.NewCache()
	type cost struct {
		setup, step, measure time.Duration
		err                  error
	}
	shapes := map[string]*cost{}
	for _, run := range runs {
		key := shapeKey(run)
		c := shapes[key]
		if c == nil {
			if ctx.Err() != nil {
				return est, ctx.Err()
			}
			c = &cost{}
			t0 := time.Now()
			var ds *data.Dataset
			if ds, c.err = cache.Load(run.Data, run.SourceDir); c.err != nil {
				c.err = fmt.Errorf("loading data: %w", c.err)
			} else {
				est.Data += time.Since(t0) // 0 when the corpus was loaded before
				c.setup, c.step, c.measure, c.err = calibrate(ctx, be, est.Sizing.Spec, ds, run)
			}
			shapes[key] = c
		}
		steps := run.Train.Steps
		n := measurements(run)
		re := RunEstimate{Run: run, Setup: c.setup, Step: c.step, Measure: c.measure, Steps: steps, Measurements: n, Err: c.err}
		if c.err == nil {
			re.Time = c.setup + time.Duration(steps-1)*c.step + time.Duration(n-1)*c.measure
			if steps == 0 { // measure only (a checkpoint): the setup without its first training step
				re.Time = max(c.setup-c.step, c.measure)
			}
		}
		est.Runs = append(est.Runs, re)
	}
	est.Shapes = len(shapes)
	times := make([]time.Duration, len(est.Runs))
	for i, re := range est.Runs {
		times[i] = re.Time
	}
	est.Batch = schedule(times, est.Sizing.Jobs) + est.Data
	est.Calibration = time.Since(began)
	return est, nil
}

// schedule is the wall time of jobs workers that each take the next run,
// in order, when they become free.
func schedule(times []time.Duration, jobs int) time.Duration {
	free := make([]time.Duration, max(1, jobs))
	for _, t := range times {
		w := 0
		for k := range free {
			if free[k] < free[w] {
				w = k
			}
		}
		free[w] += t
	}
	return slices.Max(free)
}

// measurements is how many times a run probes: at step 0, every
// measure.every steps and at the end.
func measurements(run config.Run) int {
	if run.Train.Steps == 0 {
		return 1 // measure only: step 0
	}
	n := 2 // step 0 and the last step
	if e := run.Measure.Every; e > 0 {
		n = 1 + run.Train.Steps/e
		if run.Train.Steps%e != 0 {
			n++
		}
	}
	return n
}

// shapeKey identifies what a run's speed depends on: the model, the batch
// and context, and the probe (not the learning rate, the seed or the data's
// content).
func shapeKey(run config.Run) string {
	b, _ := json.Marshal(struct {
		Model              config.Model
		Batch, Context     int
		Probe, Length, Val int
		Eps                []float64
		Sink               []int
		Corpus             config.Corpus
	}{run.Model, run.Train.Batch, run.Data.Context, run.Measure.ProbeSequences, run.Measure.ProbeLength,
		run.Measure.ValBatches, run.Measure.Eps, run.Measure.Sink, run.Data.Corpus})
	return string(b)
}

// calibrate trains a short copy of the run (measuring at its first and last
// steps) and splits its wall time into setup, per-step and per-measurement
// costs.
func calibrate(ctx context.Context, be compute.Backend, spec string, ds *data.Dataset, run config.Run) (setup, step, measure time.Duration, err error) {
	t0 := time.Now()
	short := run
	short.Train.Steps = CalibrationSteps
	short.Measure.Every = 0
	var after1, afterLast time.Time
	res, err := trainer.Train(ctx, short, ds, trainer.Options{Backend: be, BackendName: spec,
		Progress: func(p trainer.Progress) {
			if p.Step == 1 {
				after1 = time.Now()
			}
			afterLast = time.Now()
		}})
	end := time.Now()
	if err != nil {
		return 0, 0, 0, err
	}
	if res.Run.Status != table.StatusDone {
		return 0, 0, 0, errors.New(string(res.Run.Status) + ": " + res.Run.Error)
	}
	step = afterLast.Sub(after1) / (CalibrationSteps - 1)
	measure = end.Sub(afterLast)
	setup = after1.Sub(t0)
	return setup, step, measure, nil
}
