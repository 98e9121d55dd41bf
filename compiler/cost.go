package compiler

import "github.com/sinkrun/sinkrun/config"

// ParamCount is the number of trainable parameters of the model: the sum
// of the sizes of config.Model.Params, the list compiler/model creates its
// variables from (see that function, and the catalogue's entries, for what
// each setting adds). A vocabulary of 0 counts as the bytes tokenizer's 256.
func ParamCount(m config.Model) int64 {
	if m.Heads < 1 || m.DModel < 1 || m.Layers < 1 {
		return 0 // not a checked config
	}
	if m.Vocab == 0 {
		m.Vocab = 256 // the bytes tokenizer's
	}
	return m.NumParams()
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
