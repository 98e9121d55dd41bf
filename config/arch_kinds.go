package config

import "fmt"

// The catalogues of FFN, norm, position, bias and mask kinds. Their graph
// functions are in compiler/model (transformer.go, positions.go).

var ffnKinds = []FFNKind{
	{Kind: Kind{Name: "swiglu", Doc: "swish(x W_gate) * (x W_value), gated"}, Gated: true},
	{Kind: Kind{Name: "geglu", Doc: "gelu(x W_gate) * (x W_value), gated (exact erf GELU)"}, Gated: true},
	{Kind: Kind{Name: "reglu", Doc: "relu(x W_gate) * (x W_value), gated"}, Gated: true},
	{Kind: Kind{Name: "relu", Doc: "relu(x W_1)"}},
	{Kind: Kind{Name: "gelu", Doc: "gelu(x W_1) with the exact erf GELU, x*Phi(x)"}},
	{Kind: Kind{Name: "swish", Doc: "swish(x W_1) = x W_1 * sigmoid(x W_1)"}},
	{Kind: Kind{Name: "gelu_tanh", Doc: "gelu(x W_1) with the tanh approximation 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3))) (Hugging Face gelu_new / gelu_pytorch_tanh: GPT-2, GPT-NeoX)"}},
}

var normKinds = []NormKind{
	{Kind: Kind{Name: "rmsnorm", Doc: "x/sqrt(mean(x^2)+eps)*gain"}},
	{Kind: Kind{Name: "layernorm", Doc: "(x-mean(x))/sqrt(var(x)+eps)*gain+bias"}, Bias: true},
}

var positionKinds = []PositionKind{
	{
		Kind: Kind{Name: "rope", Doc: "rotary embeddings on q and k, rotating the dimension pairs (i, i+r/2) of each head's first r = rotary_dims dimensions (the rotate_half convention of Hugging Face LLaMA and GPT-NeoX)",
			Args: []string{"base", "rotary_dims", "scaling", "factor", "low_freq_factor", "high_freq_factor", "original_context"}},
		Rules: func(m Model) []Violation {
			if vs := ropeVariantRules(m); vs != nil {
				return vs
			}
			if dh := m.HeadDimOrDefault(); m.Heads > 0 && (m.HeadDim > 0 || m.DModel%m.Heads == 0) && dh%2 != 0 {
				how := fmt.Sprintf("head_dim is %d", m.HeadDim)
				if m.HeadDim == 0 {
					how = fmt.Sprintf("d_model / heads = %d", dh)
				}
				return []Violation{violation([]string{"model.position", "model.head_dim", "model.heads", "model.d_model"},
					"rope needs an even head dimension, but %s", how)}
			}
			return nil
		},
	},
	{Kind: Kind{Name: "nope", Doc: "none"}},
	{
		Kind: Kind{Name: "absolute", Doc: "fixed sinusoidal embeddings added to the token embeddings (sin then cos halves, base 10000)"},
		Rules: func(m Model) []Violation {
			if m.DModel%2 != 0 {
				return []Violation{violation([]string{"model.position", "model.d_model"},
					"absolute positions need an even d_model (sin and cos halves), but d_model is %d", m.DModel)}
			}
			return nil
		},
	},
	{
		Kind: Kind{Name: "learnable", Doc: "a learned position embedding added to the token embeddings", Args: []string{"length", "offset"}},
		Params: func(m Model) []Param {
			return []Param{{Path: "/position/learnable", Dims: []int{m.Position.Length, m.DModel},
				Layout: "[length, d_model]: row t is added to the embedding at position t (0-based; the sink token, if any, is position 0)"}}
		},
		Rules: func(m Model) []Violation {
			if m.Position.Length < 1 {
				return []Violation{violation([]string{"model.position.length", "model.position"},
					"model.position: learnable positions need a length of at least 1, got %d", m.Position.Length)}
			}
			return nil
		},
	},
	{Kind: Kind{Name: "alibi", Doc: "a fixed linear distance penalty -m_h*(t-s) on the scores, head slopes m_h as in the ALiBi paper (2^(-8h/H) when H is a power of 2)"}},
	{
		Kind: Kind{Name: "relative", Doc: "T5 relative position buckets, a learned bias per bucket and head added to the scores, shared by all layers",
			Args: []string{"buckets", "max_distance"}},
		Params: func(m Model) []Param {
			return []Param{{Path: "/position/relative", Dims: []int{m.Position.Buckets, m.Heads},
				Layout: "[buckets, heads]: the score bias of a distance bucket for each head"}}
		},
		Rules: func(m Model) []Violation {
			if p := m.Position; p.MaxDistance <= p.Buckets/2 {
				return []Violation{violation([]string{"model.position.max_distance", "model.position.buckets", "model.position"},
					"model.position: max_distance (%d) must be more than buckets/2 (%d): the first half of the buckets are exact distances", p.MaxDistance, p.Buckets/2)}
			}
			return nil
		},
	},
}

var biasKinds = []BiasKind{
	{Kind: Kind{Name: "none", Doc: "off"}},
	{
		Kind: Kind{Name: "k", Doc: "a learned key k* in a slot before token 1 that every query sees, with a zero (or fixed, see value) value v*",
			Args: []string{"per_head", "dims", "value", "m"}},
		Slots:       1,
		LayerParams: func(m Model, prefix string) []Param { return []Param{kStarParam(m, prefix)} },
		Rules:       checkBiasDims,
	},
	{
		Kind:  Kind{Name: "kv", Doc: "learned k* and v* in the slot", Args: []string{"per_head", "dims"}},
		Slots: 1,
		LayerParams: func(m Model, prefix string) []Param {
			return []Param{kStarParam(m, prefix), vStarParam(m, prefix, "the slot's value v*")}
		},
		Rules: checkBiasDims,
	},
	{
		Kind: Kind{Name: "v", Doc: "a learned v* added to the output of every head, no slot", Args: []string{"per_head"}},
		LayerParams: func(m Model, prefix string) []Param {
			return []Param{vStarParam(m, prefix, "v*, added to each head's output")}
		},
	},
	{
		Kind:  Kind{Name: "sink_token", Doc: "a learned token embedding placed before token 1 at every sequence's input, passing through every layer like a token (its keys and values come from the normal projections)"},
		Slots: 1,
		Params: func(m Model) []Param {
			return []Param{{Path: "/sink_token", Dims: []int{m.DModel}, Layout: "[d_model]: the sink token's input embedding"}}
		},
	},
}

// biasHeads is the number of heads with their own k* / v*: H per head, else 1.
func biasHeads(m Model) int {
	if m.Bias.PerHead {
		return m.Heads
	}
	return 1
}

func kStarParam(m Model, prefix string) Param {
	da := m.Bias.Dims
	if da == 0 {
		da = m.HeadDimOrDefault()
	}
	return Param{Path: prefix + "/k_bias", Dims: []int{biasHeads(m), da},
		Layout: "[heads or 1, dims]: the slot key k*, learned in its first dims dimensions (zeros after them), not rotated"}
}

func vStarParam(m Model, prefix, what string) Param {
	return Param{Path: prefix + "/v_bias", Dims: []int{biasHeads(m), m.HeadDimOrDefault()}, Layout: "[heads or 1, head_dim]: " + what}
}

func checkBiasDims(m Model) []Violation {
	if dh := m.HeadDimOrDefault(); m.Bias.Dims > dh {
		return []Violation{violation([]string{"model.bias.dims", "model.bias", "model.head_dim", "model.heads", "model.d_model"},
			"model.bias: dims (%d) must be at most the head dimension (%d)", m.Bias.Dims, dh)}
	}
	return nil
}

var maskKinds = []MaskKind{
	{Kind: Kind{Name: "causal", Doc: "query t sees keys 1..t"}},
	{
		Kind:  Kind{Name: "window", Doc: "sliding window, query t sees keys t-size+1..t", Args: []string{"size"}},
		Rules: needsSize("window(size: 16)"),
	},
	{
		Kind: Kind{Name: "shifted_window", Doc: "Swin-style blocks of size positions, query t sees the keys up to t in its own block, and odd layers (the 2nd, 4th, ...) shift the block boundaries by shift positions so information crosses them",
			Args: []string{"size", "shift"}},
		Rules: func(m Model) []Violation {
			if vs := needsSize("shifted_window(size: 16, shift: 8)")(m); vs != nil {
				return vs
			}
			if mk := m.Mask; mk.Shift >= mk.Size {
				return []Violation{violation([]string{"model.mask.shift", "model.mask.size", "model.mask"},
					"model.mask: shift (%d) must be less than size (%d)", mk.Shift, mk.Size)}
			}
			return nil
		},
	},
	{
		Kind: Kind{Name: "prefix", Doc: "prefix LM, the first size positions see one another (bidirectional) and every query sees them, the rest is causal, and the loss skips the first size-1 predictions (those of prefix tokens)",
			Args: []string{"size"}},
		Rules: needsSize("prefix(size: 4)"),
	},
}

func needsSize(example string) func(m Model) []Violation {
	return func(m Model) []Violation {
		if m.Mask.Size == 0 {
			return []Violation{violation([]string{"model.mask", "model.mask.size"}, "model.mask: %s needs a size, e.g. %s", m.Mask.Kind, example)}
		}
		return nil
	}
}

// Gated reports whether the FFN kind is a gated linear unit (two input
// projections).
func (f FFN) Gated() bool {
	k, _ := FFNKindNamed(f.Kind)
	return k.Gated
}

// Slots is the number of slot columns the bias places before token 1 in
// every attention row: 1 for k, kv and sink_token, else 0.
func (b Bias) Slots() int {
	k, _ := BiasKindNamed(b.Kind)
	return k.Slots
}

// Slots is the number of slot columns before token 1 in every attention
// row: the bias's and the attention op's (at most one in a valid model).
func (m Model) Slots() int {
	op, _ := AttentionOpNamed(m.Attention.Op)
	return m.Bias.Slots() + op.Slots
}

// ropeVariantRules checks partial rotary and the frequency scaling.
func ropeVariantRules(m Model) []Violation {
	p := m.Position
	var vs []Violation
	if p.RotaryDims%2 != 0 || p.RotaryDims > m.HeadDimOrDefault() {
		vs = append(vs, violation([]string{"model.position.rotary_dims", "model.position", "model.head_dim"},
			"model.position: rotary_dims (%d) must be even and at most the head dimension (%d)", p.RotaryDims, m.HeadDimOrDefault()))
	}
	switch p.Scaling {
	case "linear":
		if p.Factor <= 0 {
			vs = append(vs, violation([]string{"model.position.factor", "model.position.scaling"}, "model.position: linear scaling needs a factor, e.g. rope(scaling: linear, factor: 2)"))
		}
	case "llama3":
		if p.Factor <= 0 || p.OriginalContext <= 0 || p.LowFreqFactor <= 0 || p.HighFreqFactor <= p.LowFreqFactor {
			vs = append(vs, violation([]string{"model.position.scaling", "model.position.factor", "model.position.high_freq_factor"},
				"model.position: llama3 scaling needs factor, original_context, low_freq_factor and a larger high_freq_factor, e.g. rope(base: 500000, scaling: llama3, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_context: 8192)"))
		}
	}
	return vs
}
