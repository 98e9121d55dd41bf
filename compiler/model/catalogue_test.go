package model

import (
	"math/rand/v2"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

// TestEveryCatalogueEntryHasAGraph: every attention op of the catalogue has
// its graph functions here, and no graph function lacks its entry.
func TestEveryCatalogueEntryHasAGraph(t *testing.T) {
	names := map[string]bool{}
	for _, op := range config.AttentionOps() {
		names[op.Name] = true
		if g, ok := attentionGraphs[op.Name]; !ok || g.Weights == nil {
			t.Errorf("attention %s: no graph function in attentionGraphs", op.Name)
		}
	}
	for name := range attentionGraphs {
		if !names[name] {
			t.Errorf("attentionGraphs[%q] has no catalogue entry", name)
		}
	}
}

// TestEveryCatalogueKindTrains builds a tiny model with each kind of every
// catalogue (with the arguments it needs) and trains it one step: the
// kind's graph exists, its parameters are the catalogue's, and they all get
// a gradient.
func TestEveryCatalogueKindTrains(t *testing.T) {
	var cases []struct {
		name string
		edit func(*config.Model)
	}
	add := func(name string, edit func(*config.Model)) {
		cases = append(cases, struct {
			name string
			edit func(*config.Model)
		}{name, edit})
	}
	for _, k := range config.AttentionOps() {
		add("attention "+k.Name, func(m *config.Model) { m.Attention.Op = k.Name })
	}
	for _, k := range config.FFNKinds() {
		add("ffn "+k.Name, func(m *config.Model) { m.FFN.Kind = k.Name })
	}
	for _, k := range config.NormKinds() {
		add("norm "+k.Name, func(m *config.Model) { m.Norm.Kind = k.Name })
	}
	for _, k := range config.PositionKinds() {
		add("position "+k.Name, func(m *config.Model) { m.Position.Kind, m.Position.Length = k.Name, 8 })
	}
	for _, k := range config.BiasKinds() {
		add("bias "+k.Name, func(m *config.Model) { m.Bias.Kind = k.Name; m.Position.Kind = "nope" })
	}
	for _, k := range config.MaskKinds() {
		add("mask "+k.Name, func(m *config.Model) { m.Mask = config.Mask{Kind: k.Name, Size: 3, Shift: 1} })
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := tinyRun()
			c.edit(&r.Model)
			m := newModel(t, r, 1)
			if got, want := m.NumParams(), r.Model.NumParams(); got != want {
				t.Errorf("NumParams %d, catalogue %d", got, want)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			if _, err := m.TrainStep(randomTokens(rng, 4*8, 16), 4, 0); err != nil {
				t.Fatal(err)
			}
			for i, p := range m.params {
				nonzero := false
				for _, x := range flat(m.m1[i]) {
					nonzero = nonzero || x != 0
				}
				if !nonzero {
					t.Errorf("parameter %s got no gradient", p.Path())
				}
			}
		})
	}
}
