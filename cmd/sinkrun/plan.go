package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/formats/hf"
	"github.com/sinkrun/sinkrun/results/table"
)

// cmdPlanTimed is `sinkrun plan`: the table of runs, then the estimated
// time on this machine of the runs without results (estimate.go).
func cmdPlanTimed(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return plan(ctx, args, true, stdout, stderr)
}

// cmdPlan is plan with --time off by default: the table only.
func cmdPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return plan(ctx, args, false, stdout, stderr)
}

// plan lists every run of the experiments without training, and with
// --time estimates how long the runs without results take here.
func plan(ctx context.Context, args []string, timeByDefault bool, stdout, stderr io.Writer) int {
	fs := newFlags("plan", "FILES... [flags]",
		"List every run the experiments expand into, in the order `sinkrun run` trains them: experiment,\n"+
			"index, run id, varied settings and seed, parameter count, training FLOPs, and whether results exist\n"+
			"under --out. Training FLOPs = 6·N·D + 12·L·T·H·dh·D for N parameters, D = steps·batch·T training\n"+
			"tokens, L layers, T context, H heads of width dh (matmuls, plus attention scores and mixing).\n"+
			"Runs of a pretrained model (model.checkpoint) are listed again with its architecture, its weights'\n"+
			"float32 memory, the forward FLOPs of one measurement (probe and validation passes), and whether they\n"+
			"only measure (train.steps 0) or fine-tune.\n"+
			"Then the time the runs without results take on this machine, from a short calibration (--time=false: none).\n"+
			"With --resolved, also print each run's fully resolved config: the JSON stored in its Parquet footer.", stderr)
	out := fs.String("out", DefaultOut, "results directory to look for finished runs in")
	resolved := fs.Bool("resolved", false, "print each run's fully resolved config as indented JSON")
	only := experimentFlag(fs, "")
	timeIt := fs.Bool("time", timeByDefault, "estimate the time of the runs without results on this machine, from a short calibration\n(a few training steps of each distinct model shape); --time=false skips it")
	jobs := fs.Int("j", 0, "estimate for `N` runs at once, as sinkrun run -j N (or -jN) does (0: chosen from the machine)")
	be := fs.String("backend", "", "estimate on this backend, as sinkrun run --backend does (default $GOMLX_BACKEND, else go)")
	files, code, ok := parseFiles(fs, expandJobs(args))
	if !ok {
		return code
	}
	if *jobs < 0 {
		fmt.Fprintln(stderr, "sinkrun plan: -j must be >= 0")
		return exitUsage
	}
	exps, ok := compile(files, stderr)
	if !ok {
		return exitError
	}
	shown, err := selectExperiments(exps, *only)
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun plan:", err)
		return exitUsage
	}
	writePlan(stdout, exps, shown, *out, *resolved)
	if !*timeIt {
		return exitOK
	}
	return estimate(ctx, shown, *out, *jobs, *be, stdout, stderr)
}

// writePlan prints the table of the runs of the experiments shown (and with
// resolved, their configs), numbered over the runs of all of exps, as
// `sinkrun export --run N` counts them.
func writePlan(w io.Writer, exps, shown []*compiler.Experiment, out string, resolved bool) {
	var all []config.Run
	var number []int
	for _, e := range exps {
		for _, r := range e.Runs {
			if slices.Contains(shown, e) {
				all = append(all, r)
				number = append(number, len(number)+1)
			} else {
				number = append(number, -len(number)-1) // counted, not shown
			}
		}
	}
	number = slices.DeleteFunc(number, func(n int) bool { return n < 0 })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERIMENT\t#\tRUN ID\tVARIED\tSEED\tPARAMS\tTRAIN FLOPS\tRESULTS")
	var flops float64
	done := 0
	for i, r := range all {
		f := compiler.TrainFLOPs(r)
		flops += f
		have := "-"
		if table.Done(out, r.Experiment, r.ID()) {
			have = "yes"
			done++
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Experiment, number[i], r.ID(), variedText(r.Varied), r.Seed,
			thousands(compiler.ParamCount(r.Model)), flopsText(f), have)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%s in %s, %s training FLOPs in all; %d have results in %s\n",
		count(len(all), "run"), count(len(shown), "experiment"), flopsText(flops), done, out)
	writeCheckpoints(w, all, number)
	if !resolved {
		return
	}
	for i, r := range all {
		fmt.Fprintf(w, "\n# %s run %d/%d, run-%s: %s, seed %d\n", r.Experiment, number[i], len(number), r.ID(), variedText(r.Varied), r.Seed)
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(r.JSON()), "", "  "); err != nil {
			b.WriteString(r.JSON()) // cannot happen: JSON() is valid JSON
		}
		b.WriteByte('\n')
		w.Write(b.Bytes())
	}
}

// variedText renders a run's varied settings, e.g.
// "model.attention=sigmoid(z: sum) train.optimizer.lr=0.003", or "-".
func variedText(v []config.Setting) string {
	if len(v) == 0 {
		return "-"
	}
	parts := make([]string, len(v))
	for i, s := range v {
		parts[i] = s.Path + "=" + s.Value
	}
	return strings.Join(parts, " ")
}

// thousands writes n with comma separators: 869,504.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// flopsText writes a FLOP count with an SI prefix: 1.23 TFLOP.
func flopsText(f float64) string {
	for _, u := range []struct {
		scale float64
		name  string
	}{{1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if f >= u.scale {
			return strconv.FormatFloat(f/u.scale, 'f', 3-len(strconv.Itoa(int(f/u.scale))), 64) + " " + u.name
		}
	}
	return strconv.FormatFloat(f, 'f', 0, 64)
}

// writeCheckpoints lists the runs whose model is a pretrained checkpoint:
// its architecture (from config.json), its size as float32 weights, the
// forward FLOPs of one measurement (the probe pass, and the validation
// batches, whose loss needs the logits), and whether it is fine-tuned.
func writeCheckpoints(w io.Writer, runs []config.Run, number []int) {
	header := false
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range runs {
		if !r.Model.FromCheckpoint() {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\nPretrained checkpoints (forward FLOPs of one measurement; weights as float32 in memory):")
			fmt.Fprintln(tw, "EXPERIMENT\t#\tCHECKPOINT\tARCHITECTURE\tWEIGHTS\tPROBE FLOPS\tVAL FLOPS\tTRAINING")
			header = true
		}
		dir := filepath.FromSlash(r.Model.Checkpoint)
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(r.SourceDir, dir)
		}
		a, err := hf.ReadConfig(dir)
		if err != nil { // changed since the compiler read it
			fmt.Fprintf(tw, "%s\t%d\t%s\t%v\t\t\t\t\n", r.Experiment, number[i], r.Model.Checkpoint, err)
			continue
		}
		ms := r.Measure
		probe := float64(ms.ProbeSequences) * float64(hf.ForwardFLOPs(a, ms.ProbeLength, false))
		val := float64(ms.ValBatches) * float64(r.Train.Batch) * float64(hf.ForwardFLOPs(a, r.Data.Context, true))
		training := "measure only"
		if r.Train.Steps > 0 {
			training = fmt.Sprintf("fine-tune %d steps", r.Train.Steps)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Experiment, number[i], r.Model.Checkpoint, a,
			bytesText(hf.Float32Bytes(a)), flopsText(probe), flopsText(val), training)
	}
	tw.Flush()
}

// bytesText writes a size in binary units: 5.8 GiB.
func bytesText(n int64) string {
	for _, u := range []struct {
		scale float64
		name  string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if float64(n) >= u.scale {
			return strconv.FormatFloat(float64(n)/u.scale, 'f', 1, 64) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}
