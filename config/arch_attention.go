package config

import (
	"fmt"
	"math"
)

// The attention catalogue. Each op sees the scaled scores s = q·k/sqrt(d_h)
// of the visible keys (plus the ALiBi or relative-position bias, when
// configured); its graph function is compiler/model's attentionGraphs entry
// of the same name.
var attentionOps = []AttentionOp{
	{
		Kind:  Kind{Name: "softmax", Doc: "the standard op"},
		Proxy: proxyNever,
	},
	{
		Kind:  Kind{Name: "sigmoid", Doc: "sigmoid(s) per entry", Args: []string{"z"}},
		Proxy: proxyUnlessZSum,
	},
	{
		Kind: Kind{Name: "scaled_softmax", Doc: "alpha*softmax(s), rows sum to alpha (softmax mass scale)", Args: []string{"alpha"}},
		Proxy: func(a Attention) ProxyNorm {
			if a.Alpha != 1 {
				return ProxySum
			}
			return ProxyNone
		},
	},
	{
		Kind:  Kind{Name: "elu", Doc: "elu(s)+1 per entry", Args: []string{"z"}},
		Proxy: proxyUnlessZSum,
	},
	{
		Kind: Kind{Name: "linear", Doc: "linear attention, phi(q).phi(k)/sqrt(d_h) with a kernel feature map phi", Args: []string{"z", "kernel"}},
		Proxy: func(a Attention) ProxyNorm {
			if a.Kernel == "identity" || a.Kernel == "mlp" {
				return ProxyAbsSum // weights can be negative
			}
			return proxyUnlessZSum(a)
		},
		LayerParams: func(m Model, prefix string) []Param {
			if m.Attention.Kernel != "mlp" {
				return nil
			}
			// Fan-in initialisers keep |phi(x)| near |x| (He for the ReLU layer).
			dh := m.HeadDimOrDefault()
			layout := "[head_dim, head_dim], applied as x @ W to each head's post-RoPE q and k (shared by the heads)"
			return []Param{
				{Path: prefix + "/kernel_w1", Dims: []int{dh, dh}, Std: math.Sqrt(2 / float64(dh)), Matrix: true, Layout: layout},
				{Path: prefix + "/kernel_w2", Dims: []int{dh, dh}, Std: math.Sqrt(1 / float64(dh)), Matrix: true, Layout: layout},
			}
		},
		Rules: func(m Model) []Violation {
			var vs []Violation
			if m.Attention.Kernel == "" {
				vs = append(vs, violation([]string{"model.attention.kernel", "model.attention"}, "model.attention: linear needs a kernel (elu, identity or mlp)"))
			}
			if b := m.Bias.Kind; b == "k" || b == "kv" {
				vs = append(vs, violation([]string{"model.bias", "model.attention"},
					"model.bias: %s is not supported with linear attention (the kernel is not applied to the bias key)", b))
			}
			if p := m.Position.Kind; p == "alibi" || p == "relative" {
				vs = append(vs, violation([]string{"model.position", "model.attention"},
					"model.position: %s adds a bias to softmax-style scores; linear attention has none (use rope, nope, absolute or learnable)", p))
			}
			return vs
		},
	},
	{
		Kind:  Kind{Name: "softmax1", Doc: "off-by-one softmax exp(s_j)/(1+sum exp(s))"},
		Proxy: func(Attention) ProxyNorm { return ProxySum },
	},
	{
		Kind:  Kind{Name: "softpick", Doc: "relu(exp(s_j)-1)/sum|exp(s)-1|"},
		Proxy: func(Attention) ProxyNorm { return ProxySum },
	},
	{
		Kind:  Kind{Name: "sink_logit", Doc: "softmax with a learned per-head logit in an extra slot (column 0) that has no value"},
		Proxy: proxyNever,
		Slots: 1,
		LayerParams: func(m Model, prefix string) []Param {
			return []Param{{Path: prefix + "/sink_logit", Dims: []int{m.Heads}, Init: InitZeros,
				Layout: "[heads]: the logit b_h of head h's value-less slot column"}}
		},
	},
}

func proxyNever(Attention) ProxyNorm { return ProxyNone }

func proxyUnlessZSum(a Attention) ProxyNorm {
	if a.Z != "sum" {
		return ProxySum
	}
	return ProxyNone
}

// ProxyNorm is how this op's maps are row-normalised before scoring
// (the catalogue's rule; ProxyNone for an unknown op).
func (a Attention) ProxyNorm() ProxyNorm {
	if op, ok := AttentionOpNamed(a.Op); ok {
		return op.Proxy(a)
	}
	return ProxyNone
}

// IsProxy reports whether the attention rows of this op need not sum to 1,
// so sink scores are computed on row-normalised maps (docs/metrics.md#proxy).
func (a Attention) IsProxy() bool { return a.ProxyNorm() != ProxyNone }

// violation builds a Violation.
func violation(paths []string, format string, args ...any) Violation {
	return Violation{Paths: paths, Msg: fmt.Sprintf(format, args...)}
}
