package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gomlx/compute"

	"github.com/sinkrun/sinkrun/compiler/model"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/runtime/backend"
	"github.com/sinkrun/sinkrun/runtime/measure"
)

// benchResult is what `sinkrun bench --json` prints, on one line.
type benchResult struct {
	Model        string  `json:"model"`
	Params       int64   `json:"params"`
	Batch        int     `json:"batch"`
	Context      int     `json:"context"`
	Backend      string  `json:"backend"`
	BackendDesc  string  `json:"backend_description"`
	Steps        int     `json:"steps"`
	Warmup       int     `json:"warmup"`
	MsPerStep    float64 `json:"ms_per_step"` // median
	MinMs        float64 `json:"min_ms"`
	MaxMs        float64 `json:"max_ms"`
	TokensPerS   float64 `json:"tokens_per_s"`
	GFLOPPerStep float64 `json:"gflop_per_step"`
	GFLOPs       float64 `json:"gflops"`
	CompileMs    float64 `json:"compile_ms"` // the first step, which builds and compiles the graph
	// The measurement pass (measure.every steps apart): validation loss on
	// val_batches batches, the probe, and the host-side analysis.
	EvalMs         float64 `json:"eval_ms,omitempty"`    // one validation batch, median
	ProbeMs        float64 `json:"probe_ms,omitempty"`   // the probe pass, median
	AnalyzeMs      float64 `json:"analyze_ms,omitempty"` // measure.Analyze of the probe, median
	MeasureMs      float64 `json:"measure_ms,omitempty"` // val_batches·eval + probe + analyze
	MeasureEvery   int     `json:"measure_every,omitempty"`
	MeasureOverPct float64 `json:"measure_overhead_pct,omitempty"` // measure_ms / (every · ms_per_step)
}

// cmdBench times the training step of one model built by the same compiler
// as real runs: the reference model by default (the defaults of
// shared/bench/torch_ref.py), or a run of a .sink file.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("bench", "[FILE.sink] [flags]",
		"Time the training step (forward, backward, AdamW with clipping) of a model built as real runs build it:\n"+
			"the median of --steps steps after --warmup warm-up steps, on random tokens. Prints ms/step, tokens/s,\n"+
			"GFLOP/s (training FLOPs as `sinkrun plan` counts them) and the backend, then the cost of one\n"+
			"measurement pass (validation batches, probe, analysis) as a share of the run's wall time.\n"+
			"Without a file the model is the reference model of docs/performance.md (PyTorch's torch_ref.py defaults):\n"+
			"vocab 256, d_model 128, 4 layers, 4 heads, SwiGLU 352, pre-RMSNorm, RoPE, untied, batch 32 x 64.\n"+
			"Model flags override the file's run.", stderr)
	asJSON := fs.Bool("json", false, "print one JSON line (ms_per_step, tokens_per_s, gflops, backend, ...)")
	be := fs.String("backend", "", "compute backend: go, go:parallelism=N, xla:cuda, xla:/path/plugin.so (default $GOMLX_BACKEND, else go)")
	threads := fs.Int("threads", 0, "worker threads of the Go backend (0: all cores)")
	steps := fs.Int("steps", 20, "timed steps (the median is reported; at least 10 for a figure worth quoting)")
	warmup := fs.Int("warmup", 3, "untimed steps first (the first one compiles the graph)")
	runIdx := fs.Int("run", 1, "which run of FILE to time (1-based, in the order of sinkrun plan: its # column)")
	probe := fs.Bool("measure", true, "also time one measurement pass (validation loss, probe, analysis)")
	seed := fs.Int64("seed", 1, "seed of the weights and of the random tokens")
	vocab := fs.Int("vocab", 256, "vocabulary size")
	dModel := fs.Int("d-model", 128, "width of the residual stream")
	layers := fs.Int("layers", 4, "decoder blocks")
	heads := fs.Int("heads", 4, "attention heads")
	ffnKind := fs.String("ffn", "swiglu", "FFN kind: swiglu, geglu, reglu, relu, gelu, swish")
	ffnHidden := fs.Int("ffn-hidden", 352, "FFN hidden width (0: the config default)")
	attn := fs.String("attention", "softmax", "attention op (see docs/dsl.md)")
	tied := fs.Bool("tied", false, "tie the output projection to the embedding")
	batch := fs.Int("batch", 32, "sequences per step")
	seqLen := fs.Int("context", 64, "tokens per sequence (T)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(files) > 1 || *steps < 1 || *warmup < 1 {
		if *steps < 1 || *warmup < 1 {
			fmt.Fprintln(stderr, "sinkrun bench: --steps and --warmup must be >= 1")
		} else {
			fmt.Fprintln(stderr, "sinkrun bench: at most one .sink file")
		}
		return exitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	run := config.Default()
	name := "reference model (torch_ref.py defaults)"
	if len(files) == 1 {
		exps, ok := compile(files, stderr)
		if !ok {
			return exitError
		}
		var all []config.Run
		for _, e := range exps {
			all = append(all, e.Runs...)
		}
		if *runIdx < 1 || *runIdx > len(all) {
			fmt.Fprintf(stderr, "sinkrun bench: --run %d: %s has %d runs\n", *runIdx, files[0], len(all))
			return exitUsage
		}
		run = all[*runIdx-1]
		name = fmt.Sprintf("%s run %d/%d (run-%s", run.Experiment, *runIdx, len(all), run.ID())
		if len(run.Varied) > 0 {
			name += ": " + variedText(run.Varied)
		}
		name += ")"
	}
	override := func(flagName string, apply func()) {
		if len(files) == 0 || set[flagName] {
			apply()
		}
	}
	override("vocab", func() { run.Model.Vocab = *vocab })
	override("d-model", func() { run.Model.DModel = *dModel })
	override("layers", func() { run.Model.Layers = *layers })
	override("heads", func() { run.Model.Heads = *heads })
	override("ffn", func() { run.Model.FFN.Kind = *ffnKind })
	override("ffn-hidden", func() { run.Model.FFN.Hidden = *ffnHidden })
	override("attention", func() { run.Model.Attention.Op = *attn })
	override("tied", func() { run.Model.Tied = *tied })
	override("batch", func() { run.Train.Batch = *batch })
	override("context", func() { run.Data.Context = *seqLen })
	if set["seed"] || len(files) == 0 {
		run.Seed = *seed
	}
	if run.Measure.ProbeLength > run.Data.Context {
		run.Measure.ProbeLength = run.Data.Context
	}
	if err := config.ValidateModel(run.Model, run.Train).Err(); err != nil { // sinkrun check's model checks, after the flags (bench reads no data)
		fmt.Fprintln(stderr, "sinkrun bench:", err)
		return exitUsage
	}

	spec := backend.Spec(*be, *threads)
	b, err := backend.Open(spec)
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun bench:", err)
		return exitError
	}
	defer b.Finalize()
	res, err := benchRun(ctx, b, run, *steps, *warmup, *probe)
	if err != nil {
		fmt.Fprintln(stderr, "sinkrun bench:", err)
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitError
	}
	res.Model, res.Backend, res.BackendDesc = name, backend.EffectiveSpec(spec), b.Description()
	if *asJSON {
		line, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(line))
		return exitOK
	}
	writeBench(stdout, run, res)
	return exitOK
}

// benchRun builds the model of run on b and times it.
func benchRun(ctx context.Context, b compute.Backend, run config.Run, steps, warmup int, withMeasure bool) (benchResult, error) {
	var res benchResult
	m, err := model.New(b, run.Model, run.Train, run.Seed)
	if err != nil {
		return res, err
	}
	B, T, V := run.Train.Batch, run.Data.Context, run.Model.Vocab
	rng := rand.New(rand.NewPCG(uint64(run.Seed), 7))
	tokens := func(n int) []int32 {
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(rng.IntN(V))
		}
		return out
	}
	batch := tokens(B * (T + 1))
	var times []float64
	for i := 0; i < warmup+steps; i++ {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		t0 := time.Now()
		if _, err := m.TrainStep(batch, B, i); err != nil {
			return res, err
		}
		ms := msSince(t0)
		if i == 0 {
			res.CompileMs = ms
		}
		if i >= warmup {
			times = append(times, ms)
		}
	}
	res.Params, res.Batch, res.Context = m.NumParams(), B, T
	res.Steps, res.Warmup = steps, warmup
	res.MsPerStep = median(times)
	res.MinMs, res.MaxMs = slices.Min(times), slices.Max(times)
	res.TokensPerS = float64(B*T) / (res.MsPerStep / 1000)
	res.GFLOPPerStep = m.FLOPsPerStep(B, T) / 1e9
	res.GFLOPs = res.GFLOPPerStep / (res.MsPerStep / 1000)
	if !withMeasure {
		return res, nil
	}

	// One measurement pass as the trainer runs it: val_batches validation
	// losses, the probe, the analysis. Each part is timed 3 times after one
	// untimed call (which compiles its graph).
	const reps = 3
	mc := run.Measure
	val := tokens(B * (T + 1))
	probeTok := tokens(mc.ProbeSequences * mc.ProbeLength)
	var evalT, probeT, analyzeT []float64
	opts := measure.OptionsFor(run)
	for i := 0; i <= reps; i++ {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		t0 := time.Now()
		if _, err := m.EvalLoss(val, B); err != nil {
			return res, err
		}
		t1 := time.Now()
		out, err := m.Probe(probeTok, mc.ProbeSequences, mc.ProbeLength)
		if err != nil {
			return res, err
		}
		t2 := time.Now()
		if _, err := measure.Analyze(measure.Probe{N: out.N, T: out.T, Layers: out.Layers, Heads: out.Heads,
			Attention: out.Attention, Hidden: out.Hidden, Keys: out.Keys, Values: out.Values}, opts); err != nil {
			return res, err
		}
		if i > 0 {
			evalT = append(evalT, t1.Sub(t0).Seconds()*1000)
			probeT = append(probeT, t2.Sub(t1).Seconds()*1000)
			analyzeT = append(analyzeT, msSince(t2))
		}
	}
	res.EvalMs, res.ProbeMs, res.AnalyzeMs = median(evalT), median(probeT), median(analyzeT)
	res.MeasureMs = float64(mc.ValBatches)*res.EvalMs + res.ProbeMs + res.AnalyzeMs
	res.MeasureEvery = mc.Every
	if mc.Every > 0 {
		res.MeasureOverPct = 100 * res.MeasureMs / (float64(mc.Every) * res.MsPerStep)
	}
	return res, nil
}

func writeBench(w io.Writer, run config.Run, r benchResult) {
	mc := run.Model
	ffn := mc.FFN.Kind
	if h := mc.FFN.HiddenOrDefault(mc.DModel); h > 0 {
		ffn = fmt.Sprintf("%s %d", ffn, h)
	}
	tied := "untied"
	if mc.Tied {
		tied = "tied"
	}
	fmt.Fprintf(w, "model     %s\n", r.Model)
	fmt.Fprintf(w, "          V%d d%d L%d H%d (head %d), %s, %s %s-%s, %s, %s attention: %s params\n",
		mc.Vocab, mc.DModel, mc.Layers, mc.Heads, mc.HeadDimOrDefault(), ffn, mc.Position.Kind,
		mc.Norm.Placement, mc.Norm.Kind, tied, mc.Attention.Op, thousands(r.Params))
	fmt.Fprintf(w, "step      batch %d x %d tokens, AdamW (clip %g), float32\n", r.Batch, r.Context, run.Train.Optimizer.Clip)
	fmt.Fprintf(w, "backend   %s (%s)\n", r.Backend, r.BackendDesc)
	fmt.Fprintf(w, "train     %.1f ms/step (median of %d after %d warm-up; min %.1f, max %.1f; first step %.0f ms)\n",
		r.MsPerStep, r.Steps, r.Warmup, r.MinMs, r.MaxMs, r.CompileMs)
	fmt.Fprintf(w, "          %.0f tokens/s, %.1f GFLOP/s (%.2f GFLOP/step)\n", r.TokensPerS, r.GFLOPs, r.GFLOPPerStep)
	if r.MeasureMs > 0 {
		fmt.Fprintf(w, "measure   %.0f ms per pass: %d val batches x %.1f ms + probe %.1f ms (%d x %d tokens) + analysis %.1f ms\n",
			r.MeasureMs, run.Measure.ValBatches, r.EvalMs, r.ProbeMs, run.Measure.ProbeSequences, run.Measure.ProbeLength, r.AnalyzeMs)
		if r.MeasureEvery > 0 {
			fmt.Fprintf(w, "          every %d steps: +%.1f%% over the training steps\n", r.MeasureEvery, r.MeasureOverPct)
		}
	}
}

func msSince(t time.Time) float64 { return time.Since(t).Seconds() * 1000 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
