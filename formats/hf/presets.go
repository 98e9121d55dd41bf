package hf

import (
	"fmt"
	"slices"
	"strings"
)

// presets are named architectures: tiny ones that exercise each family's
// features (for tests and fixtures) and real model shapes (for plans and
// memory measurements with generated weights).
var presets = map[string]func() Arch{
	"tiny-gpt2": func() Arch {
		return Arch{Family: GPT2, Layers: 2, DModel: 32, Heads: 4, KVHeads: 4, HeadDim: 8, Vocab: 96, MaxPositions: 80,
			FFN: FFN{Act: GELUTanh, Width: 128}, Norm: Norm{Kind: LayerNorm, Eps: 1e-5, Bias: true, Pre: true},
			Position: Position{Kind: Learned, Rows: 80}, Bias: Biases{true, true, true},
			TiedEmbeddings: true, FinalNorm: true, BOS: 95, EOS: []int{95}}
	},
	// GQA (2 kv heads for 4 heads), llama3 RoPE scaling that changes the
	// low frequencies at this size, untied.
	"tiny-llama": func() Arch {
		return Arch{Family: Llama, Layers: 2, DModel: 32, Heads: 4, KVHeads: 2, HeadDim: 8, Vocab: 96, MaxPositions: 128,
			FFN: FFN{Gated: true, Act: SiLU, Width: 64}, Norm: Norm{Kind: RMSNorm, Eps: 1e-5, Pre: true},
			Position: Position{Kind: RoPE, Base: 10000, RotaryDims: 8,
				Scaling: RoPEScaling{Kind: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 128}},
			FinalNorm: true, BOS: 1, EOS: []int{2}}
	},
	// Multi-query attention and a sliding window longer than the probes.
	"tiny-mistral": func() Arch {
		return Arch{Family: Mistral, Layers: 2, DModel: 32, Heads: 4, KVHeads: 1, HeadDim: 8, Vocab: 96, MaxPositions: 128,
			FFN: FFN{Gated: true, Act: SiLU, Width: 64}, Norm: Norm{Kind: RMSNorm, Eps: 1e-5, Pre: true},
			Position: Position{Kind: RoPE, Base: 10000, RotaryDims: 8}, FinalNorm: true, SlidingWindow: 96, BOS: 1, EOS: []int{2}}
	},
	// q/k/v biases, linear RoPE scaling, tied embeddings, head_dim != d/heads.
	"tiny-qwen2": func() Arch {
		return Arch{Family: Qwen2, Layers: 2, DModel: 32, Heads: 4, KVHeads: 2, HeadDim: 16, Vocab: 96, MaxPositions: 128,
			FFN: FFN{Gated: true, Act: SiLU, Width: 64}, Norm: Norm{Kind: RMSNorm, Eps: 1e-6, Pre: true},
			Position: Position{Kind: RoPE, Base: 1e6, RotaryDims: 16, Scaling: RoPEScaling{Kind: "linear", Factor: 2}},
			Bias:     Biases{QKV: true}, TiedEmbeddings: true, FinalNorm: true, BOS: -1, EOS: []int{95}}
	},
	// Parallel residual, partial rotary (half of each head), exact GELU.
	"tiny-gpt_neox": tinyNeoX,
	// Learned positions with offset 2, ReLU, pre-norm, tied.
	"tiny-opt": tinyOPT,
	// OPT-350m's post-norm (without its 512-wide projections), untied.
	"tiny-opt-post": func() Arch {
		a := tinyOPT()
		a.Norm.Pre, a.FinalNorm, a.TiedEmbeddings = false, false, false
		return a
	},
	// A sequential-residual GPT-NeoX with full rotary and no attention biases.
	"tiny-gpt_neox-seq": func() Arch {
		a := tinyNeoX()
		a.ParallelResidual, a.Position.RotaryDims, a.Bias = false, 8, Biases{FFN: true}
		a.FFN.Act = GELUTanh
		return a
	},
	// GPT-2 XL's shape: 1.56B parameters.
	"gpt2-xl": func() Arch {
		return Arch{Family: GPT2, Layers: 48, DModel: 1600, Heads: 25, KVHeads: 25, HeadDim: 64, Vocab: 50257, MaxPositions: 1024,
			FFN: FFN{Act: GELUTanh, Width: 6400}, Norm: Norm{Kind: LayerNorm, Eps: 1e-5, Bias: true, Pre: true},
			Position: Position{Kind: Learned, Rows: 1024}, Bias: Biases{true, true, true},
			TiedEmbeddings: true, FinalNorm: true, BOS: 50256, EOS: []int{50256}}
	},
}

// Preset returns a named architecture; it panics on an unknown name, which
// is a programming error (see PresetNames, LookupPreset).
func Preset(name string) Arch {
	a, err := LookupPreset(name)
	if err != nil {
		panic(err)
	}
	return a
}

// LookupPreset returns a named architecture.
func LookupPreset(name string) (Arch, error) {
	f, ok := presets[name]
	if !ok {
		return Arch{}, fmt.Errorf("unknown architecture preset %q (known: %s)", name, strings.Join(PresetNames(), ", "))
	}
	return f(), nil
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Parallel residual, partial rotary (half of each head), exact GELU.
func tinyNeoX() Arch {
	return Arch{Family: GPTNeoX, Layers: 2, DModel: 32, Heads: 4, KVHeads: 4, HeadDim: 8, Vocab: 96, MaxPositions: 128,
		FFN: FFN{Act: GELU, Width: 128}, Norm: Norm{Kind: LayerNorm, Eps: 1e-5, Bias: true, Pre: true},
		Position: Position{Kind: RoPE, Base: 10000, RotaryDims: 4}, ParallelResidual: true,
		Bias: Biases{true, true, true}, FinalNorm: true, BOS: 0, EOS: []int{0}}
}

// Learned positions with offset 2, ReLU, pre-norm, tied.
func tinyOPT() Arch {
	return Arch{Family: OPT, Layers: 2, DModel: 32, Heads: 4, KVHeads: 4, HeadDim: 8, Vocab: 96, MaxPositions: 80,
		FFN: FFN{Act: ReLU, Width: 128}, Norm: Norm{Kind: LayerNorm, Eps: 1e-5, Bias: true, Pre: true},
		Position: Position{Kind: Learned, Offset: 2, Rows: 82}, Bias: Biases{true, true, true},
		TiedEmbeddings: true, FinalNorm: true, BOS: 2, EOS: []int{2}}
}
