package compiler

import (
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

// refModel is the lead's reference (torch_ref.py --d 128 --layers 4 --heads 4
// --ffn 352): V256 d128 L4 H4, swiglu hidden 352, untied, pre-RMSNorm, RoPE.
func refModel() config.Model {
	m := config.Default().Model
	m.Vocab, m.DModel, m.Layers, m.Heads = 256, 128, 4, 4
	m.FFN = config.FFN{Kind: "swiglu", Hidden: 352}
	return m
}

func TestParamCount(t *testing.T) {
	const V, D, L, F = 256, 128, 4, 352
	const ref = 869_504
	for _, tc := range []struct {
		name   string
		modify func(*config.Model)
		want   int64
	}{
		{"reference", func(*config.Model) {}, ref},
		{"tied", func(m *config.Model) { m.Tied = true }, ref - V*D},
		{"post-norm has no final norm", func(m *config.Model) { m.Norm.Placement = "post" }, ref - D},
		{"layernorm adds biases", func(m *config.Model) { m.Norm.Kind = "layernorm" }, ref + (2*L+1)*D},
		{"relu ffn has one input projection", func(m *config.Model) { m.FFN.Kind = "relu" }, ref - L*D*F},
		{"head_dim 16", func(m *config.Model) { m.HeadDim = 16 }, ref - L*4*D*(D-4*16)},
		{"default hidden (gated: 8/3 d rounded up to 32)", func(m *config.Model) { m.FFN.Hidden = 0 }, ref},
		{"default hidden (not gated: 4d)", func(m *config.Model) { m.FFN = config.FFN{Kind: "gelu"} }, ref - L*3*D*F + L*2*D*4*D},
		{"vocab 0 is the bytes vocabulary", func(m *config.Model) { m.Vocab = 0 }, ref},
		{"rope adds nothing", func(m *config.Model) { m.Position.Kind = "nope" }, ref},
		{"zero heads (unchecked) does not panic", func(m *config.Model) { m.Heads = 0 }, 0},
		// Architecture variants (as compiler/model's TestNumParamsOfVariants; H 4, dh 32).
		{"head_combine sum", func(m *config.Model) { m.HeadCombine = "sum" }, ref - L*(4*32-32)*D},
		{"gate head", func(m *config.Model) { m.Attention.Gate = "head" }, ref + L*D*4},
		{"gate element", func(m *config.Model) { m.Attention.Gate = "element" }, ref + L*D*4*32},
		{"bias k shared", func(m *config.Model) { m.Bias.Kind = "k" }, ref + L*32},
		{"bias k per head, d_a 8", func(m *config.Model) { m.Bias = config.Bias{Kind: "k", PerHead: true, Dims: 8} }, ref + L*4*8},
		{"bias kv", func(m *config.Model) { m.Bias.Kind = "kv" }, ref + 2*L*32},
		{"bias v per head", func(m *config.Model) { m.Bias = config.Bias{Kind: "v", PerHead: true} }, ref + L*4*32},
		{"bias sink_token", func(m *config.Model) { m.Bias.Kind = "sink_token" }, ref + D},
		{"position learnable", func(m *config.Model) { m.Position.Kind, m.Position.Length = "learnable", 64 }, ref + 64*D},
		{"position relative", func(m *config.Model) { m.Position.Kind = "relative" }, ref + 32*4},
		{"sink_logit", func(m *config.Model) { m.Attention.Op = "sink_logit" }, ref + L*4},
		{"linear mlp kernel", func(m *config.Model) { m.Attention.Op, m.Attention.Kernel = "linear", "mlp" }, ref + L*2*32*32},
	} {
		m := refModel()
		tc.modify(&m)
		if got := ParamCount(m); got != tc.want {
			t.Errorf("%s: ParamCount = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestTrainFLOPs(t *testing.T) {
	r := config.Default()
	r.Model = refModel()
	r.Train.Steps, r.Train.Batch, r.Data.Context = 10, 32, 64
	D := 10.0 * 32 * 64
	want := 6*869_504*D + 12*4*64*4*32*D
	if got := TrainFLOPs(r); got != want {
		t.Errorf("TrainFLOPs = %g, want %g", got, want)
	}
	r.Model.Heads = 0
	if TrainFLOPs(r) != 0 {
		t.Error("zero heads")
	}
}
