// Package external checks that sinkrun's Parquet results read as documented
// in external tools (DuckDB and hyparquet, through Node.js), and provides a
// synthetic but realistic results directory for tests that must not train.
package external

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// SynthRun is one synthetic run with its metrics, heads and maps rows.
type SynthRun struct {
	Run     table.Run
	Metrics []table.Metric
	Heads   []table.Head
	Maps    []table.Map
}

// Synthetic returns a deterministic set of runs shaped like a real study,
// in grid order:
//
//   - experiment "positional": vary model.position [rope, nope] x
//     train.optimizer.weight_decay [0.1, 0.5], seeds [1, 2]: 8 runs, all
//     done; Sink_1 grows during training, more with rope and weight decay 0.5.
//   - experiment "attention": vary model.attention [softmax, sigmoid],
//     seeds [1, 2]: softmax (with a learnable key bias, so a slot column and
//     Sink* scores, metric "sink" with k = 0) seed 1 done, seed 2 diverged
//     at step 300; sigmoid (Z=1, proxy scores) seed 1 done, seed 2 failed
//     before training. Its two runs that finish also have maps rows (the
//     positional runs have none: the maps table is optional).
//
// Models have 4 layers x 4 heads, measured every 100 of 400 steps (and at
// step 0), probe T = 64, eps [0.3, 0.5], sink [1, 2]. GridIndex counts the
// runs of each experiment from 0.
func Synthetic() []SynthRun {
	var out []SynthRun
	start := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	n := 0
	next := func() time.Time { n++; return start.Add(time.Duration(n) * time.Minute) }
	for _, pos := range []string{"rope", "nope"} {
		for _, wd := range []float64{0.1, 0.5} {
			for _, seed := range []int64{1, 2} {
				cfg := base("positional", seed)
				cfg.Model.Position.Kind = pos
				cfg.Train.Optimizer.WeightDecay = wd
				varied := []config.Setting{
					{Path: "model.position", Value: pos},
					{Path: "train.optimizer.weight_decay", Value: trimFloat(wd)},
				}
				strength := 0.35
				if pos == "rope" {
					strength += 0.2
				}
				if wd == 0.5 {
					strength += 0.25
				}
				out = append(out, synth(cfg, varied, next(), strength, false, -1, false))
			}
		}
	}
	for _, op := range []string{"softmax", "sigmoid"} {
		for _, seed := range []int64{1, 2} {
			cfg := base("attention", seed)
			cfg.Model.Attention.Op = op
			if op == "softmax" {
				cfg.Model.Bias.Kind = "k"
			}
			proxy := op == "sigmoid"
			if proxy {
				cfg.Model.Attention.Z = "one"
			}
			varied := []config.Setting{{Path: "model.attention", Value: op}}
			diverge, fail := -1, false
			if op == "softmax" && seed == 2 {
				diverge = 300
			}
			if op == "sigmoid" && seed == 2 {
				fail = true
			}
			strength := 0.6
			if proxy {
				strength = 0.1
			}
			out = append(out, synth(cfg, varied, next(), strength, proxy, diverge, fail))
		}
	}
	index := map[string]int64{}
	for i := range out {
		r := &out[i].Run
		r.GridIndex = index[r.Experiment]
		index[r.Experiment]++
	}
	return out
}

// WriteSynthetic writes Synthetic() under dir with table.WriteWithMaps
// and returns the runs in grid order.
func WriteSynthetic(dir string) ([]SynthRun, error) {
	runs := Synthetic()
	for _, r := range runs {
		if err := table.WriteWithMaps(dir, r.Run, r.Metrics, r.Heads, r.Maps); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

// Runs returns the table.Run of each synthetic run.
func Runs(rs []SynthRun) []table.Run {
	out := make([]table.Run, len(rs))
	for i, r := range rs {
		out[i] = r.Run
	}
	return out
}

const (
	layers, heads = 4, 4
	steps, every  = 400, 100
	batch, ctx    = 32, 64
)

func base(exp string, seed int64) config.Run {
	cfg := config.Default()
	cfg.Experiment = exp
	cfg.Seed = seed
	cfg.Model.Layers, cfg.Model.Heads = layers, heads
	cfg.Model.Vocab = 256
	cfg.Train.Steps, cfg.Train.Batch = steps, batch
	cfg.Train.Seeds = []int64{1, 2}
	cfg.Data.Context = ctx
	cfg.Measure.Every = every
	cfg.Measure.ProbeLength = ctx
	cfg.Measure.Eps = []float64{0.3, 0.5}
	cfg.Measure.Sink = []int{1, 2}
	return cfg
}

func trimFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// synth fabricates one run's rows: per-head alpha_1 rises from uniform
// (H_T/T ~ 0.074) towards strength in the heads that become sinks, Sink_k
// is the share of such heads, loss falls, and the first token's hidden
// norm ratio grows in the middle layers.
func synth(cfg config.Run, varied []config.Setting, startedAt time.Time, strength float64, proxy bool, divergeAt int, fail bool) SynthRun {
	cfg.Varied = varied
	id := cfg.ID()
	h := fnv.New64a()
	h.Write([]byte(id))
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), h.Sum64()))
	r := table.NewRun(cfg, "go", startedAt)
	r.Status, r.Params, r.GitRevision = table.StatusDone, 1_081_344, "0123456789ab"
	r.WallSeconds, r.MsPerStep = 61.5+float64(cfg.Seed), 150
	if fail {
		r.Status, r.Error = table.StatusFailed, "building the model: out of memory (synthetic)"
		r.WallSeconds, r.MsPerStep = 0.2, math.NaN()
		return SynthRun{Run: r}
	}
	s := SynthRun{}
	add := func(step int, metric string, k int32, eps float64, layer int32, v float64, p bool) {
		s.Metrics = append(s.Metrics, table.Metric{RunID: id, Step: int64(step), TokensSeen: int64(step * batch * ctx),
			Metric: metric, K: k, Eps: eps, Layer: layer, Head: -1, Value: v, IsProxy: p})
	}
	uniform := 0.0
	for t := 1; t <= ctx; t++ {
		uniform += 1 / float64(t)
	}
	uniform /= ctx
	// Which heads become sinks, and how strongly: fixed per run.
	target := make([][]float64, layers)
	for l := range target {
		target[l] = make([]float64, heads)
		for h := range target[l] {
			if l > 0 && rng.Float64() < 0.75 {
				target[l][h] = strength * (0.6 + 0.8*rng.Float64())
			} else {
				target[l][h] = uniform * (0.5 + rng.Float64())
			}
		}
	}
	slot := cfg.Model.Bias.Slots() > 0
	for step := 1; step <= steps; step++ {
		loss := 5.5*math.Exp(-float64(step)/120) + 1.6 + 0.05*rng.NormFloat64()
		if divergeAt > 0 && step == divergeAt {
			loss = math.NaN()
		}
		add(step, config.MetricTrainLoss, -1, math.NaN(), -1, loss, false)
		add(step, config.MetricLR, -1, math.NaN(), -1, 1e-3*math.Min(1, float64(step)/100), false)
		if divergeAt > 0 && step == divergeAt {
			r.Status, r.DivergedStep = table.StatusDiverged, int64(step)
			r.Error = "training loss became NaN at step 300"
			r.Steps, r.TokensSeen = int64(step), int64(step*batch*ctx)
			r.Finals = table.FinalsOf(s.Metrics)
			return SynthRun{Run: r, Metrics: s.Metrics, Heads: s.Heads}
		}
		if step%every != 0 && step != 1 {
			continue
		}
		if step == 1 {
			measure(&s, &r, 0, 0, id, target, uniform, proxy, slot, rng)
			continue
		}
		measure(&s, &r, step, float64(step)/steps, id, target, uniform, proxy, slot, rng)
	}
	r.Steps, r.TokensSeen = steps, steps*batch*ctx
	r.Finals = table.FinalsOf(s.Metrics)
	if cfg.Experiment == "attention" {
		s.Maps = finalMaps(id, target, slot)
	}
	return SynthRun{Run: r, Metrics: s.Metrics, Heads: s.Heads, Maps: s.Maps}
}

// finalMaps is a run's maps rows at its last step, for the first mapQueries
// queries of probe sequence 0 (a real run has a row for every query): each
// head gives token 1 its target alpha, the slot (key -1) 0.2 when there is
// one, and the other visible keys the rest in equal parts.
func finalMaps(id string, target [][]float64, slot bool) []table.Map {
	const mapQueries = 8
	var rows []table.Map
	for l := range target {
		for h, a := range target[l] {
			for q := int32(0); q < mapQueries; q++ {
				row := func(key int32, w float64) {
					rows = append(rows, table.Map{RunID: id, Step: steps, Layer: int32(l), Head: int32(h), Query: q, Key: key, Weight: w})
				}
				rest := 1.0
				if slot {
					row(-1, 0.2)
					rest -= 0.2
				}
				if q == 0 {
					row(0, rest)
					continue
				}
				first := math.Min(a, rest)
				row(0, first)
				for k := int32(1); k <= q; k++ {
					row(k, (rest-first)/float64(q))
				}
			}
		}
	}
	return rows
}

// measure adds the rows of one measurement at progress p in [0, 1]. With a
// slot, every head also puts weight on the slot column (k = 0): from 0.1
// towards 0.25..0.7 as training goes on.
func measure(s *SynthRun, r *table.Run, step int, p float64, id string, target [][]float64, uniform float64, proxy, slot bool, rng *rand.Rand) {
	tokens := int64(step * batch * ctx)
	add := func(metric string, k int32, eps float64, layer int32, v float64, px bool) {
		s.Metrics = append(s.Metrics, table.Metric{RunID: id, Step: int64(step), TokensSeen: tokens,
			Metric: metric, K: k, Eps: eps, Layer: layer, Head: -1, Value: v, IsProxy: px})
	}
	ramp := 1 / (1 + math.Exp(-12*(p-0.5))) // sigmoid emergence
	if step == 0 {
		ramp = 0
	}
	add(config.MetricValLoss, -1, math.NaN(), -1, 5.5*math.Exp(-float64(step)/120)+1.7, false)
	var sum float64
	sinkHeads, slotHeads := map[float64]int{}, map[float64]int{}
	for l := range target {
		for h := range target[l] {
			a := uniform + (target[l][h]-uniform)*ramp + 0.01*rng.Float64()
			a = math.Max(0, math.Min(1, a))
			sum += a
			// Share of probe sequences with alpha_1 > 0.3 in this head.
			pct := 100 / (1 + math.Exp(-(a-0.3)*25))
			s.Heads = append(s.Heads,
				table.Head{RunID: id, Step: int64(step), TokensSeen: tokens, Layer: int32(l), Head: int32(h), K: 1,
					Alpha: a, SinkPercent: pct, IsProxy: proxy},
				table.Head{RunID: id, Step: int64(step), TokensSeen: tokens, Layer: int32(l), Head: int32(h), K: 2,
					Alpha: uniform * 0.8, SinkPercent: 0, IsProxy: proxy})
			for _, eps := range []float64{0.3, 0.5} {
				if a > eps {
					sinkHeads[eps]++
				}
			}
			if slot {
				sa := 0.1 + ramp*(0.15+0.45*rng.Float64())
				s.Heads = append(s.Heads, table.Head{RunID: id, Step: int64(step), TokensSeen: tokens,
					Layer: int32(l), Head: int32(h), K: 0, Alpha: sa, SinkPercent: 100 / (1 + math.Exp(-(sa-0.3)*25)), IsProxy: proxy})
				for _, eps := range []float64{0.3, 0.5} {
					if sa > eps {
						slotHeads[eps]++
					}
				}
			}
		}
	}
	n := float64(layers * heads)
	for _, eps := range []float64{0.3, 0.5} {
		v := 100 * float64(sinkHeads[eps]) / n
		add(config.MetricSink, 1, eps, -1, v, proxy)
		add(config.MetricSink, 2, eps, -1, 0, proxy)
	}
	if slot {
		for _, eps := range []float64{0.3, 0.5} {
			v := 100 * float64(slotHeads[eps]) / n
			add(config.MetricSink, 0, eps, -1, v, proxy)
		}
	}
	mean := sum / n
	add(config.MetricMeanAlpha, 1, math.NaN(), -1, mean, proxy)
	for l := 0; l < layers; l++ {
		hidden := 1 + ramp*40*math.Sin(math.Pi*float64(l+1)/float64(layers+1))*(0.8+0.4*rng.Float64())
		add(config.MetricMassiveHidden, -1, math.NaN(), int32(l), hidden, false)
		add(config.MetricMassiveKey, -1, math.NaN(), int32(l), 1+ramp*2*rng.Float64(), false)
		add(config.MetricMassiveValue, -1, math.NaN(), int32(l), 1/(1+ramp*3), false)
	}
}
