package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestCatalogueDrivesTheSchema: the kinds the schema accepts, their docs and
// which arguments apply to which kind all come from the catalogue.
func TestCatalogueDrivesTheSchema(t *testing.T) {
	s := Schema()
	for _, c := range []struct {
		path  string
		kinds []Kind
	}{
		{"model.attention", catalogueKinds("attention")},
		{"model.ffn", catalogueKinds("ffn")},
		{"model.norm", catalogueKinds("norm")},
		{"model.position", catalogueKinds("position")},
		{"model.bias", catalogueKinds("bias")},
		{"model.mask", catalogueKinds("mask")},
	} {
		f := s.Lookup(c.path)
		if f == nil || !f.IsConstructor() {
			t.Fatalf("%s: not a constructor setting", c.path)
		}
		var names []string
		for _, k := range c.kinds {
			names = append(names, k.Name)
			if k.Doc == "" {
				t.Errorf("%s %s: no doc", c.path, k.Name)
			}
			if !strings.Contains(f.KindField().Doc, k.Name+": "+k.Doc) {
				t.Errorf("%s: the schema's doc lacks %s's", c.path, k.Name)
			}
			for _, a := range k.Args {
				arg := f.Child(a)
				if arg == nil {
					t.Errorf("%s %s: argument %q is not a field of %s", c.path, k.Name, a, c.path)
				} else if !arg.AcceptsKind(k.Name) {
					t.Errorf("%s.%s does not accept %s", c.path, a, k.Name)
				}
			}
		}
		if !slices.Equal(f.KindField().Enum, names) {
			t.Errorf("%s: schema kinds %v, catalogue %v", c.path, f.KindField().Enum, names)
		}
	}
	for path, want := range map[string][]string{
		"model.attention.z":      {"sigmoid", "elu", "linear"},
		"model.attention.kernel": {"linear"},
		"model.attention.gate":   nil, // every op
		"model.bias.per_head":    {"k", "kv", "v"},
		"model.mask.size":        {"window", "shifted_window", "prefix"},
		"model.position.base":    {"rope"},
	} {
		if got := s.Lookup(path).Kinds; !slices.Equal(got, want) {
			t.Errorf("%s applies to %v, want %v", path, got, want)
		}
	}
}

// TestParamsOfDefaultModel: the parameter list of the reference model, its
// order and its total (torch_ref.py's 869,504).
func TestParamsOfDefaultModel(t *testing.T) {
	m := Default().Model
	m.Vocab, m.FFN.Hidden, m.Layers = 256, 352, 1
	var got []string
	for _, p := range m.Params() {
		got = append(got, p.Path+fmt.Sprint(p.Dims))
	}
	want := []string{"/embed[256 128]", "/layer_0/norm1/gain[128]", "/layer_0/attn/wqkv[128 384]", "/layer_0/attn/wo[128 128]",
		"/layer_0/norm2/gain[128]", "/layer_0/ffn/w1[128 704]", "/layer_0/ffn/w2[128 352]", "/final_norm/gain[128]", "/head[128 256]"}
	if !slices.Equal(got, want) {
		t.Errorf("Params:\n got %v\nwant %v", got, want)
	}
	m.Layers = 4
	if n := m.NumParams(); n != 869_504 {
		t.Errorf("NumParams = %d, want 869504", n)
	}
	for _, p := range m.Params() {
		if p.Layout == "" {
			t.Errorf("%s: no layout", p.Path)
		}
	}
}

// TestValidate: each rule fires for the config that breaks it, naming the
// settings involved, and the default run breaks none.
func TestValidate(t *testing.T) {
	if vs := Validate(Default()); len(vs) > 0 {
		t.Fatalf("the default run: %v", vs)
	}
	for _, c := range []struct {
		name  string
		edit  func(*Run)
		path  string // the first path of the (only) violation
		words string
	}{
		{"unknown op", func(r *Run) { r.Model.Attention.Op = "nope" }, "model.attention", `unknown kind "nope"`},
		{"enum value", func(r *Run) { r.Model.Attention.Op, r.Model.Attention.Z = "elu", "max" }, "model.attention.z", "expected one of one, sum"},
		{"argument of another kind is not checked", func(r *Run) { r.Model.Attention.Z = "max" }, "", ""},
		{"range", func(r *Run) { r.Model.Layers = 0 }, "model.layers", "must be between 1 and 256, found 0"},
		{"list length", func(r *Run) { r.Train.Optimizer.Betas = []float64{0.9} }, "train.optimizer.betas", "expected a list of 2 values"},
		{"heads divide d_model", func(r *Run) { r.Model.Heads = 3 }, "model.heads", "must divide d_model"},
		{"two slots", func(r *Run) { r.Model.Attention.Op, r.Model.Bias.Kind = "sink_logit", "kv" }, "model.bias", "so does attention sink_logit"},
		{"linear with k bias", func(r *Run) { r.Model.Attention.Op, r.Model.Bias.Kind = "linear", "k" }, "model.bias", "linear attention"},
		{"window needs a size (not: size at least 1)", func(r *Run) { r.Model.Mask = Mask{Kind: "window"} }, "model.mask", "needs a size"},
		{"mask size beyond the context", func(r *Run) { r.Model.Mask = Mask{Kind: "prefix", Size: 65} }, "model.mask.size", "more than data.context"},
		{"learnable length", func(r *Run) { r.Model.Position.Kind, r.Model.Position.Length = "learnable", 10 }, "model.position.length", "shorter than the sequences"},
		{"probe length", func(r *Run) { r.Measure.ProbeLength = 65 }, "measure.probe_length", "at most data.context"},
		{"vocab below the data's", func(r *Run) { r.Model.Vocab = 100 }, "model.vocab", "smaller than the bytes tokenizer's vocabulary"},
		{"layer drop without training", func(r *Run) { r.Model.Checkpoint, r.Train.Steps, r.Train.LayerDrop = "m", 0, 0.2 }, "train.layer_drop", "train.steps is 0"},
		{"layer drop range", func(r *Run) { r.Train.LayerDrop = 1 }, "train.layer_drop", "between 0 and 0.9"},
		{"lags beyond triggers", func(r *Run) {
			r.Data.Corpus = Corpus{Kind: "bigram_backcopy", Vocab: 64, Triggers: 3, Successors: 3, TriggerRate: 0.1, Lags: 4}
			r.Data.Tokenizer = Tokenizer{Kind: "bytes"}
		}, "data.corpus.lags", "needs at least as many triggers"},
	} {
		r := Default()
		r.Model.Vocab = 256
		c.edit(&r)
		vs := Validate(r)
		if c.path == "" {
			if len(vs) > 0 {
				t.Errorf("%s: %v", c.name, vs)
			}
			continue
		}
		if len(vs) != 1 || vs[0].Paths[0] != c.path || !strings.Contains(vs[0].Msg, c.words) {
			t.Errorf("%s: got %+v, want one violation at %s mentioning %q", c.name, vs, c.path, c.words)
		}
	}
}

// TestSlotRuleIsTheCatalogues: every op with a slot excludes every bias
// with one (the rule reads the catalogue, not op names).
func TestSlotRuleIsTheCatalogues(t *testing.T) {
	for _, op := range AttentionOps() {
		for _, b := range BiasKinds() {
			m := Default().Model
			m.Vocab, m.Attention.Op, m.Bias.Kind = 256, op.Name, b.Name
			clash := false
			for _, v := range modelRules(m) {
				clash = clash || strings.Contains(v.Msg, "adds a slot")
			}
			if want := op.Slots > 0 && b.Slots > 0; clash != want {
				t.Errorf("op %s, bias %s: slot clash reported %v, want %v", op.Name, b.Name, clash, want)
			}
		}
	}
}

// TestFamilySettingsAreOffByDefault: the settings added for the Hugging
// Face families are left out of the default run's JSON (so earlier run ids
// stay), and each one, when on, is part of the id.
func TestFamilySettingsAreOffByDefault(t *testing.T) {
	def := Default()
	js := def.JSON()
	for _, key := range []string{"kv_heads", "linear_bias", "residual", "offset", "rotary_dims", "scaling", "factor", "low_freq_factor", "high_freq_factor", "original_context"} {
		if strings.Contains(js, `"`+key+`"`) {
			t.Errorf("the default run's JSON mentions %q: %s", key, js)
		}
	}
	for name, edit := range map[string]func(*Model){
		"kv_heads":    func(m *Model) { m.KVHeads = 2 },
		"linear_bias": func(m *Model) { m.LinearBias = "qkv" },
		"residual":    func(m *Model) { m.Residual = "parallel" },
		"rotary_dims": func(m *Model) { m.Position.RotaryDims = 8 },
		"scaling":     func(m *Model) { m.Position.Scaling, m.Position.Factor = "linear", 2 },
		"ffn":         func(m *Model) { m.FFN.Kind = "gelu_tanh" },
	} {
		r := Default()
		edit(&r.Model)
		if r.ID() == def.ID() {
			t.Errorf("%s does not change the run id", name)
		}
	}
}

// TestParamsOfFamilyFeatures: grouped-query attention narrows wqkv, and
// linear biases add one vector per linear map, after its weight.
func TestParamsOfFamilyFeatures(t *testing.T) {
	m := Default().Model
	m.Vocab, m.Layers, m.KVHeads, m.LinearBias, m.Norm.Kind, m.FFN = 256, 1, 2, "all", "layernorm", FFN{Kind: "gelu_tanh", Hidden: 512}
	var got []string
	for _, p := range m.Params() {
		got = append(got, p.Path+fmt.Sprint(p.Dims))
	}
	want := []string{"/embed[256 128]", "/layer_0/norm1/gain[128]", "/layer_0/norm1/bias[128]",
		"/layer_0/attn/wqkv[128 256]", "/layer_0/attn/bqkv[256]", "/layer_0/attn/wo[128 128]", "/layer_0/attn/bo[128]",
		"/layer_0/norm2/gain[128]", "/layer_0/norm2/bias[128]", "/layer_0/ffn/w1[128 512]", "/layer_0/ffn/b1[512]",
		"/layer_0/ffn/w2[128 512]", "/layer_0/ffn/b2[128]", "/final_norm/gain[128]", "/final_norm/bias[128]", "/head[128 256]"}
	if !slices.Equal(got, want) {
		t.Errorf("Params:\n got %v\nwant %v", got, want)
	}
}
