package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/runtime/backend"
)

// withFast builds a model with the fast-path switches sw and steps it once.
func withFast(t testing.TB, sw fastSwitches, r config.Run, tok []int32, batch int) *Model {
	t.Helper()
	m, err := build(testBackend(t), r.Model, r.Train, 1, sw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.TrainStep(tok, batch, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.EvalLoss(tok, batch); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFastPathMatchesStock trains the same model with every fast rule on and
// with all off (GoMLX's stock gradients): losses, gradient norms and the
// trained weights agree to float32 rounding.
func TestFastPathMatchesStock(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*config.Run)
	}{
		{"reference-shape", func(r *config.Run) {}},
		{"post-layernorm-tied-gelu", func(r *config.Run) {
			r.Model.Norm.Kind, r.Model.Norm.Placement, r.Model.Tied, r.Model.FFN.Kind = "layernorm", "post", true, "gelu"
		}},
		{"sigmoid-nope", func(r *config.Run) { r.Model.Attention.Op, r.Model.Position.Kind = "sigmoid", "nope" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := tinyRun()
			c.edit(&r)
			rng := rand.New(rand.NewPCG(3, 4))
			const B, T = 8, 12 // 8 rows: batchLoss splits the batch
			tok := countingBatch(rng, B, T, r.Model.Vocab)
			fast := withFast(t, parseFastPath(""), r, tok, B)
			stock := withFast(t, parseFastPath("off"), r, tok, B)
			for step := 1; step < 6; step++ {
				batch := countingBatch(rng, B, T, r.Model.Vocab)
				lf, err := fast.TrainStep(batch, B, step)
				if err != nil {
					t.Fatal(err)
				}
				ls, err := stock.TrainStep(batch, B, step)
				if err != nil {
					t.Fatal(err)
				}
				gf, gs := fast.GradNorm(), stock.GradNorm()
				if !closeRel(lf, ls, 1e-5) || !closeRel(gf, gs, 1e-4) {
					t.Errorf("step %d: loss fast %.7f stock %.7f, grad norm fast %.7f stock %.7f", step, lf, ls, gf, gs)
				}
			}
			ef, _ := fast.EvalLoss(tok, B)
			es, _ := stock.EvalLoss(tok, B)
			if !closeRel(ef, es, 1e-5) {
				t.Errorf("eval loss after training: fast %.7f stock %.7f", ef, es)
			}
		})
	}
}

func closeRel(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestParseFastPath(t *testing.T) {
	all := fastSwitches{fusedDense: true, attn: true, qkv: true, norm: true, softmax: true, split: true}
	for env, want := range map[string]fastSwitches{
		"":            all,
		"on":          all,
		"off":         {},
		"0":           {},
		"-dense":      {attn: true, qkv: true, norm: true, softmax: true, split: true},
		"-attn,-norm": {fusedDense: true, qkv: true, softmax: true, split: true},
		"qkv,softmax": {fusedDense: true, attn: true, norm: true, split: true},
		"-split":      {fusedDense: true, attn: true, qkv: true, norm: true, softmax: true},
	} {
		if got := parseFastPath(env); got != want {
			t.Errorf("parseFastPath(%q) = %+v, want %+v", env, got, want)
		}
	}
}

// TestFastPathAB is a measuring tool, not a check: with SINKRUN_AB set to a
// ;-separated list of variants it trains the reference model in each and
// alternates them (in forward, then reverse order) for SINKRUN_AB_ROUNDS
// rounds of 3 steps, printing the wall and CPU ms/step of each (minimum,
// first quartile, median). A variant is "FASTPATH@BACKEND": a
// SINKRUN_FASTPATH value ("on", "off", "-dense", ...; default on) and a
// backend spec as runtime/backend.Open takes it (default go:parallelism=2,
// which Open schedules as parallelism=3,num_executors=2). Example:
//
//	SINKRUN_AB='off;-dense;-attn;-qkv;-norm;-softmax;-split;on' go test ./compiler/model -run FastPathAB -v -timeout 30m
//	SINKRUN_AB='@go:parallelism=2,ops_sequential;@go:parallelism=2,ops_parallel;@go:parallelism=2'
func TestFastPathAB(t *testing.T) {
	sel := os.Getenv("SINKRUN_AB")
	if sel == "" {
		t.Skip("set SINKRUN_AB to run")
	}
	rounds, _ := strconv.Atoi(os.Getenv("SINKRUN_AB_ROUNDS"))
	if rounds <= 0 {
		rounds = 7
	}
	const steps = 3
	r := refRun()
	rng := rand.New(rand.NewPCG(1, 1))
	tok := randomTokens(rng, 32*65, 256)
	type variant struct {
		name      string
		m         *Model
		wall, cpu []float64
	}
	var vs []*variant
	for _, name := range strings.Split(sel, ";") {
		fp, spec, _ := strings.Cut(name, "@")
		if spec == "" {
			spec = "go:parallelism=2"
		}
		b, err := backend.Open(spec)
		if err != nil {
			t.Fatal(err)
		}
		m, err := build(b, r.Model, r.Train, 1, parseFastPath(fp), nil)
		if err == nil {
			_, err = m.TrainStep(tok, 32, 0) // builds the graph
		}
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, &variant{name: name, m: m})
	}
	for round := 0; round < rounds; round++ {
		order := slices.Clone(vs)
		if round%2 == 1 { // alternate the order: no variant always runs first
			slices.Reverse(order)
		}
		for _, v := range order {
			c0, t0 := cpuTime(), time.Now()
			for i := 0; i < steps; i++ {
				if _, err := v.m.TrainStep(tok, 32, i); err != nil {
					t.Fatal(err)
				}
			}
			v.wall = append(v.wall, time.Since(t0).Seconds()*1e3/steps)
			v.cpu = append(v.cpu, (cpuTime()-c0).Seconds()*1e3/steps)
		}
	}
	q := func(xs []float64, f float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[int(f*float64(len(s)-1))]
	}
	for _, v := range vs {
		fmt.Printf("AB %-40s wall min %6.1f q25 %6.1f median %6.1f | cpu min %6.1f q25 %6.1f median %6.1f ms/step\n",
			v.name, slices.Min(v.wall), q(v.wall, .25), q(v.wall, .5), slices.Min(v.cpu), q(v.cpu, .25), q(v.cpu, .5))
	}
}
