package hfref_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/sinkrun/sinkrun/formats/hf"
	"github.com/sinkrun/sinkrun/test/hfref"
)

// TestPlantedSink writes, for every family, random weights with an
// attention sink planted in layer 0: the first token's embedding points
// along a direction u that every token shares a little of, and each head's
// q and k read u into one dimension that RoPE leaves (almost) unrotated, so
// every query's largest score is on token 1. Sink_1 must then be at least
// the share of layer 0's (sequence, head) triples, and the reference must
// still agree with the canonical forward pass.
func TestPlantedSink(t *testing.T) {
	py := python(t)
	for _, preset := range []string{"tiny-gpt2", "tiny-llama", "tiny-qwen2", "tiny-gpt_neox", "tiny-opt"} {
		t.Run(preset, func(t *testing.T) {
			a := hf.Preset(preset)
			dir := t.TempDir()
			ckpt := filepath.Join(dir, "ckpt")
			const sinkToken = 7
			if err := hf.Write(ckpt, a, hfref.PlantedSink(a, sinkToken), hf.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			tokens := randomTokens(4, 64, a.Vocab)
			for _, seq := range tokens {
				seq[0] = sinkToken
				for i := 1; i < len(seq); i++ {
					if seq[i] == sinkToken {
						seq[i] = sinkToken + 1
					}
				}
			}
			res, err := hfref.Run(py, ckpt, tokens, filepath.Join(dir, "out"), hfref.Options{})
			if err != nil {
				t.Fatal(err)
			}
			floor := 100 / float64(a.Layers)
			if res.Summary.Sink1Pct < floor {
				t.Errorf("Sink_1 %.2f%% below the planted layer's share %.2f%%; alpha_1 %v", res.Summary.Sink1Pct, floor, res.Summary.Alpha1)
			}
			goMaps, _ := forward(t, ckpt, tokens)
			_, maps, err := res.Maps(0)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i, p := range maps {
				s, rest := i/(a.Heads*64*64), i%(a.Heads*64*64)
				h, rest := rest/(64*64), rest%(64*64)
				worst = max(worst, math.Abs(float64(p)-goMaps[0][s][h][rest/64][rest%64]))
			}
			if worst > maxMapDiff {
				t.Errorf("layer 0: max |A_torch - A_go| = %.3g", worst)
			}
			t.Logf("%s: Sink_1 %.2f%%, layer-0 alpha_1 %.3f, max diff %.2g", preset, res.Summary.Sink1Pct, res.Summary.Alpha1[0], worst)
		})
	}
}
