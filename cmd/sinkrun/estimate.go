package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/runner"
)

// estimate prints the estimated time on this machine of the runs of exps
// without results in out, from a short calibration.
func estimate(ctx context.Context, exps []*compiler.Experiment, out string, jobs int, be string, stdout, stderr io.Writer) int {
	all, err := runner.Select(exps, runner.Shard{})
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun plan:", err)
		return exitError
	}
	var todo []config.Run
	for _, r := range all {
		if !table.Done(out, r.Experiment, r.ID()) {
			todo = append(todo, r)
		}
	}
	fmt.Fprintln(stdout)
	if len(todo) == 0 {
		fmt.Fprintf(stdout, "Every run has results in %s: `sinkrun run` has nothing to train (--force re-runs).\n", out)
		return exitOK
	}
	fmt.Fprintf(stderr, "calibrating: a %d-step run of each model shape...\n", runner.CalibrationSteps)
	est, err := runner.EstimateTime(ctx, todo, runner.Options{Backend: be, Jobs: jobs})
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun plan: estimating the time:", err)
		return exitError
	}
	writeEstimate(stdout, est)
	return exitOK
}

// writeEstimate prints the estimate, one row per experiment.
func writeEstimate(w io.Writer, est runner.Estimate) {
	s := est.Sizing
	how := fmt.Sprintf("backend %s, %d run%s at once", s.Spec, s.Jobs, plural(s.Jobs))
	if s.Note != "" {
		fmt.Fprintln(w, s.Note)
	}
	fmt.Fprintf(w, "Estimated time on this machine (%s; calibrated %d shape%s in %s):\n",
		how, est.Shapes, plural(est.Shapes), est.Calibration.Round(100*time.Millisecond))
	type row struct {
		name                       string
		runs                       int
		total                      time.Duration
		lo, hi, slo, shi, mlo, mhi time.Duration
		failed                     []string
	}
	var rows []*row
	byName := map[string]*row{}
	for _, re := range est.Runs {
		r := byName[re.Run.Experiment]
		if r == nil {
			r = &row{name: re.Run.Experiment}
			byName[r.name] = r
			rows = append(rows, r)
		}
		if re.Err != nil {
			r.failed = append(r.failed, fmt.Sprintf("run-%s: %v", re.Run.ID(), firstLine(re.Err.Error())))
			continue
		}
		if r.runs == 0 {
			r.lo, r.hi, r.slo, r.shi, r.mlo, r.mhi = re.Time, re.Time, re.Step, re.Step, re.Measure, re.Measure
		}
		r.runs++
		r.total += re.Time
		r.lo, r.hi = min(r.lo, re.Time), max(r.hi, re.Time)
		r.slo, r.shi = min(r.slo, re.Step), max(r.shi, re.Step)
		r.mlo, r.mhi = min(r.mlo, re.Measure), max(r.mhi, re.Measure)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERIMENT\tRUNS TO TRAIN\tPER RUN\tPER STEP\tPER PROBE\tRUNS ONE AFTER ANOTHER")
	for _, r := range rows {
		if r.runs > 0 {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.name, r.runs, span(r.lo, r.hi), span(r.slo, r.shi), span(r.mlo, r.mhi), dur(r.total))
		}
	}
	tw.Flush()
	for _, r := range rows {
		for _, f := range r.failed {
			fmt.Fprintf(w, "%s: calibration failed, %s\n", r.name, f)
		}
	}
	fmt.Fprintf(w, "The batch: about %s with %d at once", dur(est.Batch), s.Jobs)
	if est.Data > time.Second {
		fmt.Fprintf(w, " (%s of it loading data)", dur(est.Data))
	}
	fmt.Fprintln(w, ". Per run: setup and compilation, then steps and probes at the calibrated pace;")
	fmt.Fprintln(w, "checkpoints and a busy machine add to it. Split it over machines with `sinkrun run --shard i/n` (docs/running.md).")
}

func span(lo, hi time.Duration) string {
	if dur(lo) == dur(hi) {
		return dur(lo)
	}
	return dur(lo) + "–" + dur(hi)
}

// dur writes a duration with about 2 significant digits: 12ms, 3.4s, 5m10s, 2h5m.
func dur(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= 10*time.Second:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// count is "1 run", "2 runs": n and the word, plural where n is not 1.
func count(n int, word string) string {
	return fmt.Sprintf("%d %s%s", n, word, plural(n))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
