package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/runner"
)

// cmdPlanTimed is `sinkrun plan`: the table of cmdPlan (plan.go), then the
// estimated time on this machine of the runs without results, from a short
// calibration. Its own flags (--time, -j, --backend) are taken out of the
// arguments before cmdPlan parses the rest.
func cmdPlanTimed(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	mine := flag.NewFlagSet("plan", flag.ContinueOnError)
	mine.SetOutput(stderr)
	timeIt := mine.Bool("time", true, "estimate the time of the runs without results on this machine, from a short calibration\n(a few training steps of each distinct model shape); --time=false skips it")
	jobs := mine.Int("j", 0, "estimate for this many runs at once, as sinkrun run -j does (0: chosen from the machine)")
	be := mine.String("backend", "", "estimate on this backend, as sinkrun run --backend does (default $GOMLX_BACKEND, else go)")
	rest, own := splitFlags(args, mine)
	if err := mine.Parse(own); err != nil {
		return exitUsage
	}
	code := cmdPlan(ctx, rest, stdout, stderr)
	if wantsHelp(rest) {
		fmt.Fprintln(stderr, "\nTime estimate flags:")
		mine.PrintDefaults()
		return code
	}
	if code != exitOK || !*timeIt {
		return code
	}
	// The files and --out, as cmdPlan read them.
	pf := flag.NewFlagSet("plan", flag.ContinueOnError)
	pf.SetOutput(io.Discard)
	out := pf.String("out", "results", "")
	pf.Bool("resolved", false, "")
	files, err := parseInterspersed(pf, rest)
	if err != nil {
		return code // a flag plan.go has and this does not know: no estimate
	}
	exps, ok := compile(files, stderr)
	if !ok {
		return exitError
	}
	all, err := runner.Select(exps, runner.Shard{})
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun plan:", err)
		return exitError
	}
	var todo []config.Run
	for _, r := range all {
		if !table.Done(*out, r.Experiment, r.ID()) {
			todo = append(todo, r)
		}
	}
	fmt.Fprintln(stdout)
	if len(todo) == 0 {
		fmt.Fprintf(stdout, "Every run has results in %s: `sinkrun run` has nothing to train (--force re-runs).\n", *out)
		return exitOK
	}
	fmt.Fprintf(stderr, "calibrating: a %d-step run of each model shape...\n", runner.CalibrationSteps)
	est, err := runner.EstimateTime(ctx, todo, runner.Options{Backend: *be, Jobs: *jobs})
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

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// splitFlags separates the flags defined in fs (as -name, --name, -name=v
// or -name v) from the other arguments, keeping both in order.
func splitFlags(args []string, fs *flag.FlagSet) (rest, own []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), own
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		if !strings.HasPrefix(a, "-") || f == nil {
			rest = append(rest, a)
			continue
		}
		own = append(own, a)
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) && i+1 < len(args) {
			i++
			own = append(own, args[i])
		}
	}
	return rest, own
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}
