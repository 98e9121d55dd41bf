package config

import (
	"strings"
	"testing"
)

func TestFlattenColumnsAreSnakeCaseAndUnique(t *testing.T) {
	cols := Flatten(Default())
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.Name] {
			t.Errorf("duplicate column %q", c.Name)
		}
		seen[c.Name] = true
		if strings.ToLower(c.Name) != c.Name || strings.ContainsAny(c.Name, ". ") {
			t.Errorf("column %q is not snake_case", c.Name)
		}
	}
	for _, want := range []string{"model_layers", "model_attention", "model_attention_z", "train_optimizer_lr", "data_corpus", "seed"} {
		if !seen[want] {
			t.Errorf("missing column %q", want)
		}
	}
}

func TestIDIgnoresArgumentsOfOtherKinds(t *testing.T) {
	a := Default()
	a.Model.Position = Position{Kind: "nope", Base: 10000}
	b := a
	b.Model.Position.Base = 500000 // does not apply to nope
	if a.ID() != b.ID() {
		t.Errorf("position.base changed the id of a nope run")
	}
	c := a
	c.Model.Position = Position{Kind: "rope", Base: 10000}
	if a.ID() == c.ID() {
		t.Errorf("rope and nope runs share an id")
	}
	if a.Model.Position.Base != 10000 {
		t.Errorf("Canonical mutated its receiver")
	}
}

func TestIDDependsOnSeedAndExperiment(t *testing.T) {
	a := Default()
	b := a
	b.Seed = 2
	c := a
	c.Experiment = "other"
	if a.ID() == b.ID() || a.ID() == c.ID() {
		t.Error("seed and experiment must be part of the id")
	}
	if len(a.ID()) != 16 {
		t.Errorf("id %q: want 16 hex digits", a.ID())
	}
}

func TestVocabSize(t *testing.T) {
	cases := []struct {
		name string
		d    Data
		want int
	}{
		{"bytes", Data{Corpus: Corpus{Kind: "builtin"}, FirstToken: FirstToken{Kind: "none"}}, 256},
		{"bytes with byte 0 first", Data{Corpus: Corpus{Kind: "builtin"}, FirstToken: FirstToken{Kind: "fixed", Token: 0}}, 256},
		{"bytes with dedicated BOS", Data{Corpus: Corpus{Kind: "builtin"}, FirstToken: FirstToken{Kind: "fixed", Token: 256}}, 257},
		{"synthetic", Data{Corpus: Corpus{Kind: "bigram_backcopy", Vocab: 64}, FirstToken: FirstToken{Kind: "none"}}, 64},
	}
	for _, c := range cases {
		if got := c.d.VocabSize(); got != c.want {
			t.Errorf("%s: VocabSize = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestSchemaLookup(t *testing.T) {
	s := Schema()
	for _, p := range []string{"model.attention", "model.attention.z", "train.optimizer.lr", "measure.eps"} {
		if s.Lookup(p) == nil {
			t.Errorf("Lookup(%q) = nil", p)
		}
	}
	if s.Lookup("model.nonsense") != nil {
		t.Error("Lookup of an unknown path must be nil")
	}
	if f := s.Lookup("model.attention"); !f.IsConstructor() {
		t.Error("model.attention must be a constructor field")
	}
}

// train.steps 0 (measure only) needs a checkpoint; a checkpoint's path and
// fingerprint are part of the run's identity, absent otherwise.
func TestMeasureOnlyAndCheckpointIdentity(t *testing.T) {
	for _, tc := range []struct {
		steps      int
		checkpoint string
		violation  string
	}{
		{0, "", "train.steps: 0 (measure only) needs a pretrained model"},
		{0, "models/gpt2", ""},
		{10, "models/gpt2", ""},
		{1, "", ""},
	} {
		r := Default()
		r.Model.Vocab = 256
		r.Train.Steps, r.Model.Checkpoint = tc.steps, tc.checkpoint
		var got string
		for _, v := range Validate(r) {
			got += v.Msg
		}
		if tc.violation == "" && got != "" || !strings.Contains(got, tc.violation) {
			t.Errorf("steps %d, checkpoint %q: violations %q, want %q", tc.steps, tc.checkpoint, got, tc.violation)
		}
	}
	plain := Default()
	if strings.Contains(plain.JSON(), "checkpoint") {
		t.Errorf("a model without a checkpoint names one in its JSON: %s", plain.JSON())
	}
	a, b := plain, plain
	a.Model.Checkpoint, a.Model.CheckpointSHA256 = "m", "aa"
	b.Model.Checkpoint, b.Model.CheckpointSHA256 = "m", "bb"
	if a.ID() == b.ID() || a.ID() == plain.ID() {
		t.Errorf("ids: checkpoint fingerprint aa %s, bb %s, none %s", a.ID(), b.ID(), plain.ID())
	}
}
