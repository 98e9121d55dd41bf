package model

import (
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"

	"github.com/sinkrun/sinkrun/config"
)

// sharedBackend is the Go backend on 2 cores; SINKRUN_TEST_BACKEND overrides
// the config (e.g. "go:parallelism=2,ops_sequential") to compare settings.
var sharedBackend = sync.OnceValues(func() (compute.Backend, error) {
	cfg := "go:parallelism=2"
	if c := os.Getenv("SINKRUN_TEST_BACKEND"); c != "" {
		cfg = c
	}
	return compute.NewWithConfig(cfg)
})

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := sharedBackend()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refRun is the reference configuration of torch_ref.py: V256 d128 L4 H4,
// SwiGLU 352, untied, pre-RMSNorm, RoPE, AdamW(1e-3, 0.9/0.95, wd 0.1, clip 1).
func refRun() config.Run {
	r := config.Default()
	r.Model.Vocab = 256
	r.Model.FFN.Hidden = 352
	return r
}

// tinyRun is a seconds-fast model: V16 d32 L2 H2.
func tinyRun() config.Run {
	r := config.Default()
	r.Model.Vocab = 16
	r.Model.DModel = 32
	r.Model.Layers = 2
	r.Model.Heads = 2
	r.Model.FFN.Hidden = 64
	r.Train.Optimizer.LR = 1e-2
	r.Train.Schedule = config.Schedule{Kind: "constant", Warmup: 5}
	r.Train.Steps = 50
	return r
}

func newModel(t testing.TB, r config.Run, seed int64) *Model {
	t.Helper()
	m, err := New(testBackend(t), r.Model, r.Train, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// countingBatch returns batch rows of T+1 tokens (start+i) mod vocab with a
// random start: the next token is a function of the current one.
func countingBatch(rng *rand.Rand, batch, T, vocab int) []int32 {
	out := make([]int32, batch*(T+1))
	for b := 0; b < batch; b++ {
		s := rng.IntN(vocab)
		for i := 0; i <= T; i++ {
			out[b*(T+1)+i] = int32((s + i) % vocab)
		}
	}
	return out
}

func randomTokens(rng *rand.Rand, n, vocab int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(rng.IntN(vocab))
	}
	return out
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
