package hfref

import (
	"math"
	"math/rand/v2"

	"github.com/sinkrun/sinkrun/formats/hf"
)

// PlantedSink is hf.RandomSource with an attention sink planted in layer 0:
// the embedding of sinkToken points along a direction u that every token
// shares a little of, and each head's q and k read u into one dimension that
// RoPE leaves (almost) unrotated, so every query of layer 0 puts most of its
// attention on a first token sinkToken. A checkpoint with a known sink, for
// comparing implementations where Sink_1 is not 0.
func PlantedSink(a hf.Arch, sinkToken int) hf.Source {
	base := hf.RandomSource(a, 21)
	d, dh := a.DModel, a.HeadDim
	u := make([]float32, d) // zero mean, unit norm: LayerNorm keeps it
	rng := rand.New(rand.NewPCG(3, 4))
	var norm float64
	for i := 0; i < d; i += 2 {
		v := rng.NormFloat64()
		u[i], u[i+1] = float32(v), float32(-v)
		norm += 2 * v * v
	}
	for i := range u {
		u[i] /= float32(math.Sqrt(norm))
	}
	// the head dimension that carries u: past the rotary ones, or the
	// lowest-frequency rotated pair
	dim := a.HeadDim - 1
	if a.Position.Kind == hf.RoPE {
		dim = a.Position.RotaryDims/2 - 1
		if a.Position.RotaryDims < dh {
			dim = a.Position.RotaryDims
		}
	}
	const strength = 2.5
	return func(name string) (hf.Tensor, error) {
		t, err := base(name)
		if err != nil {
			return t, err
		}
		switch name {
		case "tok_embed":
			for v := range a.Vocab {
				row := t.Data[v*d : (v+1)*d]
				for i := range row {
					if v == sinkToken {
						row[i] = 20 * u[i]
					} else {
						row[i] += 2 * float32(math.Sqrt(float64(d))) * u[i]
					}
				}
			}
		case "layers.0.q.weight", "layers.0.k.weight":
			heads := a.Heads
			if name == "layers.0.k.weight" {
				heads = a.KVHeads
			}
			cols := heads * dh
			for i := range t.Data {
				t.Data[i] *= 0.1 // keep the planted scores dominant
			}
			for h := range heads {
				for r := range d {
					t.Data[r*cols+h*dh+dim] = strength * u[r]
				}
			}
		case "layers.0.q.bias", "layers.0.k.bias":
			for i := range t.Data {
				t.Data[i] = 0
			}
		}
		return t, nil
	}
}
