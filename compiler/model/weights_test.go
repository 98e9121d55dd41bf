package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSetParamsThenProbe: weights set by path are the ones the probe uses —
// without any training step and with probe sequences longer than anything
// the model was configured for — and a bad path or length changes nothing.
func TestSetParamsThenProbe(t *testing.T) {
	r := tinyRun()
	r.Model.KVHeads, r.Model.LinearBias = 1, "all"
	m := newModel(t, r, 1)
	ref := newModel(t, r, 2) // other weights, to copy over
	values := map[string][]float32{}
	for _, p := range ref.Params() {
		v, dims, err := ref.Param(p.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(dims, p.Dims) {
			t.Fatalf("%s: Param dims %v, Params %v", p.Path, dims, p.Dims)
		}
		values[p.Path] = v
	}
	before, _, _ := m.Param("/embed")
	bad := map[string][]float32{"/embed": values["/embed"], "/layer_0/attn/wqkv": values["/layer_0/attn/wqkv"][:7]}
	if err := m.SetParams(bad); err == nil || !strings.Contains(err.Error(), "wqkv") {
		t.Errorf("a short value: err = %v", err)
	}
	if err := m.SetParams(map[string][]float32{"/nope": nil}); err == nil || !strings.Contains(err.Error(), "/nope") {
		t.Errorf("an unknown path: err = %v", err)
	}
	if after, _, _ := m.Param("/embed"); !slices.Equal(before, after) {
		t.Error("a failed SetParams changed a parameter")
	}
	if err := m.SetParams(values); err != nil {
		t.Fatal(err)
	}
	const N, T = 2, 200 // longer than data.context (64): the model has no context limit with rope
	rng := rand.New(rand.NewPCG(4, 4))
	tok := randomTokens(rng, N*T, r.Model.Vocab)
	got, err := m.Probe(tok, N, T)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.Probe(tok, N, T)
	if err != nil {
		t.Fatal(err)
	}
	for l := range want.Attention {
		for i := range want.Attention[l] {
			if got.Attention[l][i] != want.Attention[l][i] || math.IsNaN(float64(got.Attention[l][i])) {
				t.Fatalf("layer %d value %d: %v, the weights' owner gives %v", l, i, got.Attention[l][i], want.Attention[l][i])
			}
		}
	}
}

// TestParamsAreTheModelsVariables: Params is the catalogue's list, in the
// model's variable order.
func TestParamsAreTheModelsVariables(t *testing.T) {
	r := tinyRun()
	r.Model.LinearBias, r.Model.KVHeads, r.Model.Norm.Kind = "all", 1, "layernorm"
	m := newModel(t, r, 1)
	ps := m.Params()
	if len(ps) != len(m.params) {
		t.Fatalf("%d params listed, %d variables", len(ps), len(m.params))
	}
	for i, p := range ps {
		if v := m.params[i]; v.Path() != p.Path || !slices.Equal(v.Shape().Dimensions, p.Dims) {
			t.Errorf("param %d: listed %s%v, variable %s%v", i, p.Path, p.Dims, v.Path(), v.Shape().Dimensions)
		}
	}
	wantWqkv := []int{32, (2 + 2*1) * 16}
	for _, p := range ps {
		if p.Path == "/layer_0/attn/wqkv" && !slices.Equal(p.Dims, wantWqkv) {
			t.Errorf("wqkv %v, want %v (2 query heads, 1 key/value head, head_dim 16)", p.Dims, wantWqkv)
		}
	}
}
