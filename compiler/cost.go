package compiler

import "github.com/sinkrun/sinkrun/config"

// ParamCount is the number of trainable parameters of the model, computed
// from its configuration (it matches compiler/model's Model.NumParams):
//
//	token embedding                V·d
//	per layer: q, k, v, o          4·d·H·dh         (no biases)
//	           feed-forward        3·d·F if gated (swiglu, geglu, reglu), else 2·d·F
//	           two norms           d each for rmsnorm, 2d for layernorm (gain and bias)
//	final norm                     one more norm with pre-norm placement, none with post
//	output head                    V·d unless tied to the embedding
//
// with V the vocabulary (model.vocab; the compiler fills in 0), d d_model,
// H heads, dh the head width and F the FFN hidden width. Architecture
// variants change it:
//
//	head_combine sum               the output projection is dh·d, not H·dh·d
//	attention gate                 d·H (head) or d·H·dh (element) per layer
//	attention sink_logit           H per layer
//	attention linear(kernel: mlp)  2·dh·dh per layer
//	bias k / kv                    (H or 1)·d_a per layer for k* (d_a = dims, or dh)
//	bias kv / v                    (H or 1)·dh per layer for v*
//	bias sink_token                d
//	position learnable             length·d
//	position relative              buckets·H
func ParamCount(m config.Model) int64 {
	V, d, L, H := int64(m.Vocab), int64(m.DModel), int64(m.Layers), int64(m.Heads)
	if V == 0 {
		V = 256 // the bytes tokenizer's
	}
	if H == 0 {
		return 0 // not a checked config
	}
	dh := int64(m.HeadDimOrDefault())
	F := int64(m.FFN.HiddenOrDefault(m.DModel))
	ffn := 2 * d * F
	if m.FFN.Gated() {
		ffn = 3 * d * F
	}
	norm := d
	if m.Norm.Kind == "layernorm" {
		norm = 2 * d
	}
	wo := d * H * dh
	if m.HeadCombine == "sum" {
		wo = d * dh
	}
	perLayer := 3*d*H*dh + wo + ffn + 2*norm
	switch m.Attention.Gate {
	case "head":
		perLayer += d * H
	case "element":
		perLayer += d * H * dh
	}
	switch {
	case m.Attention.Op == "sink_logit":
		perLayer += H
	case m.Attention.Op == "linear" && m.Attention.Kernel == "mlp":
		perLayer += 2 * dh * dh
	}
	biasHeads := int64(1)
	if m.Bias.PerHead {
		biasHeads = H
	}
	switch m.Bias.Kind {
	case "k", "kv":
		da := int64(m.Bias.Dims)
		if da == 0 {
			da = dh
		}
		perLayer += biasHeads * da
	}
	if m.Bias.Kind == "kv" || m.Bias.Kind == "v" {
		perLayer += biasHeads * dh
	}
	n := V*d + L*perLayer
	if m.Bias.Kind == "sink_token" {
		n += d
	}
	switch m.Position.Kind {
	case "learnable":
		n += int64(m.Position.Length) * d
	case "relative":
		n += int64(m.Position.Buckets) * H
	}
	if m.Norm.Placement != "post" {
		n += norm
	}
	if !m.Tied {
		n += V * d
	}
	return n
}

// Tokens is the number of training tokens of a run: steps · batch · context.
func Tokens(r config.Run) float64 {
	return float64(r.Train.Steps) * float64(r.Train.Batch) * float64(r.Data.Context)
}

// TrainFLOPs estimates the floating-point operations of training a run
// (forward and backward, validation and probes not included):
//
//	6·N·D + 12·L·T·H·dh·D
//
// where N is ParamCount, D the training tokens (steps · batch · T), T the
// context, L the layers, H the heads and dh the head width. The first term
// is the weight matmuls (2 FLOPs per parameter per token forward, twice
// that backward); the second the attention scores q·k and the mixing of v
// (2·T·H·dh each per token and layer forward, without causal savings, times
// 3 for forward and backward). It equals compiler/model's FLOPsPerStep
// times the steps.
func TrainFLOPs(r config.Run) float64 {
	m := r.Model
	if m.Heads == 0 {
		return 0 // not a checked config
	}
	T := float64(r.Data.Context)
	D := Tokens(r)
	attn := 12 * float64(m.Layers) * T * float64(m.Heads) * float64(m.HeadDimOrDefault()) * D
	return 6*float64(ParamCount(m))*D + attn
}
