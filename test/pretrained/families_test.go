// Package pretrained_test checks sinkrun's measurement of Hugging Face
// checkpoints against an independent implementation: for every supported
// family, a checkpoint written by the test (random weights, with an
// attention sink planted in layer 0) is loaded into sinkrun's GoMLX model
// and probed, and the same tokens go through test/hfref's PyTorch forward
// pass, written from Hugging Face's architecture definitions. The attention
// maps must agree to 1e-4 and Sink_1 exactly.
package pretrained_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomlx/compute"

	"github.com/sinkrun/sinkrun/compiler/model"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/formats/hf"
	"github.com/sinkrun/sinkrun/formats/pretrained"
	"github.com/sinkrun/sinkrun/runtime/backend"
	"github.com/sinkrun/sinkrun/runtime/measure"
	"github.com/sinkrun/sinkrun/test/hfref"
)

const maxMapDiff = 1e-4

var (
	backendOnce sync.Once
	sharedBE    compute.Backend
	backendErr  error
)

func testBackend(t *testing.T) compute.Backend {
	backendOnce.Do(func() { sharedBE, backendErr = backend.Open(backend.Spec("", 0)) })
	if backendErr != nil {
		t.Fatal(backendErr)
	}
	return sharedBE
}

func python(t *testing.T) string { return hfref.PythonForTest(t) }

func TestFamiliesAgreeWithPyTorch(t *testing.T) {
	py := python(t)
	cases := []struct {
		preset string
		dtype  string
		shards int
	}{
		{"tiny-gpt2", "F32", 1},
		{"tiny-llama", "BF16", 2},
		{"tiny-mistral", "F32", 1},
		{"tiny-qwen2", "F16", 1},
		{"tiny-gpt_neox", "F32", 1},
		{"tiny-gpt_neox-seq", "F32", 1},
		{"tiny-opt", "F32", 1},
		{"tiny-opt-post", "F32", 1},
	}
	const N, T, sinkToken = 4, 32, 7
	for _, c := range cases {
		t.Run(c.preset, func(t *testing.T) {
			a := hf.Preset(c.preset)
			dir := t.TempDir()
			ckpt := filepath.Join(dir, "ckpt")
			dt, err := hf.ParseDType(c.dtype)
			if err != nil {
				t.Fatal(err)
			}
			if err := hf.Write(ckpt, a, hfref.PlantedSink(a, sinkToken), hf.WriteOptions{DType: dt, Shards: c.shards}); err != nil {
				t.Fatal(err)
			}
			tokens := probeTokens(N, T, a.Vocab, sinkToken)

			ref, err := hfref.Run(py, ckpt, tokens, filepath.Join(dir, "ref"), hfref.Options{})
			if err != nil {
				t.Fatal(err)
			}

			ck, err := hf.Open(ckpt)
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			m, err := pretrained.ModelFromArch(ck.Arch)
			if err != nil {
				t.Fatal(err)
			}
			mdl, err := model.NewWithWeights(testBackend(t), m, config.Train{}, pretrained.Weights(ck, m))
			if err != nil {
				t.Fatal(err)
			}
			flat := make([]int32, 0, N*T)
			for _, s := range tokens {
				for _, id := range s {
					flat = append(flat, int32(id))
				}
			}
			out, err := mdl.Probe(flat, N, T)
			if err != nil {
				t.Fatal(err)
			}
			if out.Slots != 0 {
				t.Fatalf("a Hugging Face model has %d slot columns", out.Slots)
			}
			worst := 0.0
			for l := range a.Layers {
				_, maps, err := ref.Maps(l)
				if err != nil {
					t.Fatal(err)
				}
				if len(maps) != len(out.Attention[l]) {
					t.Fatalf("layer %d: %d reference weights, sinkrun has %d", l, len(maps), len(out.Attention[l]))
				}
				for i, p := range maps {
					worst = max(worst, math.Abs(float64(p)-float64(out.Attention[l][i])))
				}
			}
			if worst > maxMapDiff {
				t.Errorf("max |A_torch - A_sinkrun| = %.3g over every layer, head and sequence", worst)
			}
			rep, err := measure.Analyze(measure.Probe{N: out.N, T: out.T, Layers: out.Layers, Heads: out.Heads,
				Attention: out.Attention, Visible: out.Visible, Hidden: out.Hidden, Keys: out.Keys, Values: out.Values},
				measure.Options{Eps: []float64{0.3}})
			if err != nil {
				t.Fatal(err)
			}
			sink1 := rep.Sink[0].Percent
			if math.Abs(sink1-ref.Summary.Sink1Pct) > 1e-9 {
				t.Errorf("Sink_1: sinkrun %.4f%%, PyTorch %.4f%%", sink1, ref.Summary.Sink1Pct)
			}
			if sink1 == 0 {
				t.Errorf("the planted sink was not measured (Sink_1 0)")
			}
			t.Logf("%s (%s, %d shard(s)): max abs diff %.2g, Sink_1 %.2f%% (PyTorch %.2f%%)", c.preset, c.dtype, c.shards, worst, sink1, ref.Summary.Sink1Pct)
		})
	}
}

// probeTokens are n random sequences of t tokens that start with the
// planted sink token and do not repeat it.
func probeTokens(n, t, vocab, sink int) [][]int {
	rng := rand.New(rand.NewPCG(11, 12))
	out := make([][]int, n)
	for i := range out {
		out[i] = make([]int, t)
		out[i][0] = sink
		for j := 1; j < t; j++ {
			id := rng.IntN(vocab)
			if id == sink {
				id++
			}
			out[i][j] = id
		}
	}
	return out
}
