package hf

import (
	"fmt"
	"math"
	"strings"
)

// Family is a Hugging Face model_type that sinkrun reads and writes.
type Family string

// The supported families.
const (
	GPT2    Family = "gpt2"
	Llama   Family = "llama"
	Mistral Family = "mistral"
	Qwen2   Family = "qwen2"
	GPTNeoX Family = "gpt_neox"
	OPT     Family = "opt"
)

// Families lists the supported model types, in the order docs show them.
var Families = []Family{GPT2, Llama, Mistral, Qwen2, GPTNeoX, OPT}

func familyList() string {
	names := make([]string, len(Families))
	for i, f := range Families {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Act is a feed-forward activation.
type Act string

// The activations the families use.
const (
	GELU     Act = "gelu"      // exact, with erf
	GELUTanh Act = "gelu_tanh" // tanh approximation (HF gelu_new / gelu_pytorch_tanh / gelu_fast)
	ReLU     Act = "relu"
	SiLU     Act = "silu"
)

// FFN is the feed-forward block. Gated: down(act(gate(x)) * up(x)) (LLaMA's
// SwiGLU); otherwise down(act(up(x))).
type FFN struct {
	Gated bool
	Act   Act
	Width int
}

// NormKind is the normalisation layer.
type NormKind string

// The norms the families use.
const (
	LayerNorm NormKind = "layernorm"
	RMSNorm   NormKind = "rmsnorm"
)

// Norm describes every normalisation layer of the model. Bias: a LayerNorm
// with a learned bias (RMSNorm never has one). Pre: normalise each block's
// input (x + f(norm(x))); otherwise post (norm(x + f(x))), as OPT-350m.
type Norm struct {
	Kind NormKind
	Eps  float64
	Bias bool
	Pre  bool
}

// PositionKind is how positions enter the model.
type PositionKind string

// The position kinds the families use.
const (
	RoPE    PositionKind = "rope"
	Learned PositionKind = "learned"
)

// Position is the positional encoding.
//
// RoPE (LLaMA, Mistral, Qwen2, GPT-NeoX): queries and keys are rotated after
// their projections and biases, in the rotate_half convention of Hugging
// Face: within each head, the first RotaryDims dimensions rotate as pairs
// (i, i + RotaryDims/2) by angle pos * InvFreq()[i]; the remaining
// dimensions pass through (GPT-NeoX's rotary_pct < 1).
//
// Learned (GPT-2, OPT): a table of Rows rows is added to the token
// embedding; position t (0-based) uses row t + Offset (OPT: offset 2).
type Position struct {
	Kind       PositionKind
	Base       float64     // RoPE theta
	RotaryDims int         // RoPE: rotated dimensions per head (even, <= head_dim)
	Scaling    RoPEScaling // RoPE: rope_scaling
	Offset     int         // Learned
	Rows       int         // Learned
}

// RoPEScaling is config.json's rope_scaling. Kind "" means none; "linear"
// divides every frequency by Factor; "llama3" divides the low frequencies by
// Factor and interpolates the middle band (LLaMA-3.1's rule).
type RoPEScaling struct {
	Kind                 string
	Factor               float64
	LowFreqFactor        float64
	HighFreqFactor       float64
	OriginalMaxPositions int
}

// InvFreq is the RoPE inverse frequency of each rotated pair, scaling
// included: RotaryDims/2 values.
func (p Position) InvFreq() []float64 {
	half := p.RotaryDims / 2
	inv := make([]float64, half)
	for i := range inv {
		inv[i] = 1 / math.Pow(p.Base, float64(2*i)/float64(p.RotaryDims))
	}
	s := p.Scaling
	switch s.Kind {
	case "linear":
		for i := range inv {
			inv[i] /= s.Factor
		}
	case "llama3":
		old := float64(s.OriginalMaxPositions)
		lowWave, highWave := old/s.LowFreqFactor, old/s.HighFreqFactor
		for i, f := range inv {
			wave := 2 * math.Pi / f
			switch {
			case wave < highWave:
			case wave > lowWave:
				inv[i] = f / s.Factor
			default:
				smooth := (old/wave - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				inv[i] = (1-smooth)*f/s.Factor + smooth*f
			}
		}
	}
	return inv
}

// Biases says which linear layers carry a bias. QKV: the q, k and v
// projections; O: the attention output projection; FFN: the feed-forward
// layers.
type Biases struct {
	QKV, O, FFN bool
}

// Arch is a family-neutral description of a decoder-only transformer read
// from (or written to) a Hugging Face config.json.
type Arch struct {
	Family  Family
	Layers  int
	DModel  int
	Heads   int
	KVHeads int // < Heads: grouped-query attention; query head h uses kv head h / (Heads/KVHeads)
	HeadDim int
	Vocab   int
	// MaxPositions is the longest sequence the model takes
	// (max_position_embeddings / n_positions).
	MaxPositions int
	FFN          FFN
	Norm         Norm
	Position     Position
	// ParallelResidual: x + attn(norm1(x)) + ffn(norm2(x)) (GPT-NeoX).
	ParallelResidual bool
	Bias             Biases
	// TiedEmbeddings: the output projection is the token embedding.
	TiedEmbeddings bool
	// FinalNorm: a norm after the last block (all pre-norm models).
	FinalNorm bool
	// SlidingWindow > 0: each query sees only the last SlidingWindow keys
	// (Mistral, Qwen2 with use_sliding_window). Shorter sequences are not
	// affected; CheckSequence refuses longer ones.
	SlidingWindow int
	BOS           int   // bos_token_id, -1 when the config has none
	EOS           []int // eos_token_id (one or several)
	DType         DType // torch_dtype, informational: weights are converted on load
}

// CheckSequence reports whether sequences of t tokens can be measured
// exactly as the checkpoint's own implementation would: within the
// position table and the sliding window.
func (a Arch) CheckSequence(t int) error {
	if t > a.MaxPositions {
		return fmt.Errorf("%s model takes at most %d positions, sequences have %d tokens", a.Family, a.MaxPositions, t)
	}
	if a.SlidingWindow > 0 && t > a.SlidingWindow {
		return fmt.Errorf("%s model uses a %d-token sliding window, which sinkrun does not implement; sequences have %d tokens (keep them <= %d)", a.Family, a.SlidingWindow, t, a.SlidingWindow)
	}
	return nil
}

// KVDim is the width of the key and value projections.
func (a Arch) KVDim() int { return a.KVHeads * a.HeadDim }

// QDim is the width of the query projection.
func (a Arch) QDim() int { return a.Heads * a.HeadDim }

// validate checks what every family needs; family rules come on top.
func (a Arch) validate() error {
	pos := func(name string, v int) error {
		if v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", name, v)
		}
		return nil
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"layers", a.Layers}, {"d_model", a.DModel}, {"heads", a.Heads}, {"kv heads", a.KVHeads}, {"head_dim", a.HeadDim}, {"vocab", a.Vocab}, {"max positions", a.MaxPositions}, {"ffn width", a.FFN.Width}} {
		if err := pos(c.name, c.v); err != nil {
			return err
		}
	}
	if a.Heads%a.KVHeads != 0 {
		return fmt.Errorf("heads (%d) must be a multiple of kv heads (%d)", a.Heads, a.KVHeads)
	}
	switch a.FFN.Act {
	case GELU, GELUTanh, ReLU, SiLU:
	default:
		return fmt.Errorf("unsupported activation %q", a.FFN.Act)
	}
	if a.Norm.Kind != LayerNorm && a.Norm.Kind != RMSNorm {
		return fmt.Errorf("unsupported norm %q", a.Norm.Kind)
	}
	if a.Norm.Kind == RMSNorm && a.Norm.Bias {
		return fmt.Errorf("an RMSNorm has no bias")
	}
	if !(a.Norm.Eps > 0) {
		return fmt.Errorf("norm eps must be positive, got %g", a.Norm.Eps)
	}
	p := a.Position
	switch p.Kind {
	case RoPE:
		if p.RotaryDims <= 0 || p.RotaryDims%2 != 0 || p.RotaryDims > a.HeadDim {
			return fmt.Errorf("rotary dims must be even and in [2, head_dim=%d], got %d", a.HeadDim, p.RotaryDims)
		}
		if !(p.Base > 1) {
			return fmt.Errorf("rope base must be > 1, got %g", p.Base)
		}
		if err := p.Scaling.validate(); err != nil {
			return err
		}
	case Learned:
		if p.Offset < 0 || p.Rows < a.MaxPositions+p.Offset {
			return fmt.Errorf("learned position table of %d rows with offset %d cannot hold %d positions", p.Rows, p.Offset, a.MaxPositions)
		}
	default:
		return fmt.Errorf("unsupported position kind %q", p.Kind)
	}
	return nil
}

func (s RoPEScaling) validate() error {
	switch s.Kind {
	case "":
		return nil
	case "linear":
		if !(s.Factor > 0) {
			return fmt.Errorf("rope_scaling factor must be positive, got %g", s.Factor)
		}
	case "llama3":
		if !(s.Factor > 0) || !(s.LowFreqFactor > 0) || !(s.HighFreqFactor > s.LowFreqFactor) || s.OriginalMaxPositions <= 0 {
			return fmt.Errorf("llama3 rope_scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0; got %+v", s)
		}
	default:
		return fmt.Errorf("unsupported rope_scaling kind %q (supported: linear, llama3)", s.Kind)
	}
	return nil
}

// String is a one-line summary for plans and run tables, e.g.
// "llama: 32 layers, d 4096, 32 heads (8 kv) x 128, gated silu ffn 14336,
// pre-rmsnorm, rope 500000 llama3 x8, untied".
func (a Arch) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d layers, d %d, %d heads", a.Family, a.Layers, a.DModel, a.Heads)
	if a.KVHeads != a.Heads {
		fmt.Fprintf(&b, " (%d kv)", a.KVHeads)
	}
	fmt.Fprintf(&b, " x %d, ", a.HeadDim)
	if a.FFN.Gated {
		b.WriteString("gated ")
	}
	fmt.Fprintf(&b, "%s ffn %d, ", a.FFN.Act, a.FFN.Width)
	if a.Norm.Pre {
		b.WriteString("pre-")
	} else {
		b.WriteString("post-")
	}
	b.WriteString(string(a.Norm.Kind))
	switch p := a.Position; p.Kind {
	case RoPE:
		fmt.Fprintf(&b, ", rope %g", p.Base)
		if p.RotaryDims != a.HeadDim {
			fmt.Fprintf(&b, " on %d/%d dims", p.RotaryDims, a.HeadDim)
		}
		if p.Scaling.Kind != "" {
			fmt.Fprintf(&b, " %s x%g", p.Scaling.Kind, p.Scaling.Factor)
		}
	case Learned:
		b.WriteString(", learned positions")
		if p.Offset != 0 {
			fmt.Fprintf(&b, " (offset %d)", p.Offset)
		}
	}
	if a.ParallelResidual {
		b.WriteString(", parallel residual")
	}
	if a.SlidingWindow > 0 {
		fmt.Fprintf(&b, ", sliding window %d", a.SlidingWindow)
	}
	if a.TiedEmbeddings {
		b.WriteString(", tied")
	} else {
		b.WriteString(", untied")
	}
	return b.String()
}
