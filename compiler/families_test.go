package compiler

import (
	"strings"
	"testing"
)

// TestFamilySettings: the settings of the Hugging Face families compile,
// and their rules are reported at the value that breaks them.
func TestFamilySettings(t *testing.T) {
	ok := `experiment llama3 {
  model {
    heads 4; kv_heads 2; linear_bias qkv; residual parallel; ffn gelu_tanh
    position rope(base: 500000, rotary_dims: 8, scaling: llama3, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_context: 8192)
  }
}
experiment opt {
  model { norm layernorm; linear_bias all; tied true; position learnable(offset: 2) }
}
`
	exps, err := Compile(map[string][]byte{"t.sink": []byte(ok)})
	if err != nil {
		t.Fatal(FormatErrors(err, nil))
	}
	m := exps[0].Runs[0].Model
	if m.KVHeads != 2 || m.LinearBias != "qkv" || m.Residual != "parallel" || m.Position.RotaryDims != 8 || m.Position.Scaling != "llama3" {
		t.Errorf("llama3 model: %+v", m)
	}
	if p := exps[1].Runs[0].Model.Position; p.Offset != 2 || p.Length != 64+2 {
		t.Errorf("opt positions: %+v, want offset 2 and length data.context + 2", p)
	}
	for _, c := range []struct{ src, want string }{
		{"experiment a {\n  model { heads 4; kv_heads 3 }\n}", "t.sink:2:29: model.kv_heads (3) must divide heads (4)"},
		{"experiment a {\n  model { residual parallel; norm rmsnorm(placement: post) }\n}", "t.sink:2:20: model.residual: parallel needs pre-norm"},
		{"experiment a {\n  model { position rope(rotary_dims: 7) }\n}", "t.sink:2:38: model.position: rotary_dims (7) must be even"},
		{"experiment a {\n  model { position rope(scaling: llama3, factor: 8) }\n}", "t.sink:2:34: model.position: llama3 scaling needs"},
		{"experiment a {\n  model { position learnable(length: 64, offset: 2) }\n}", "t.sink:2:38: model.position: learnable length 64 is shorter than the sequences (data.context 64 + offset 2)"},
	} {
		_, err := Compile(map[string][]byte{"t.sink": []byte(c.src)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}
