package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

func TestLayerKeep(t *testing.T) {
	for _, p := range []float64{0.1, 0.5, 0.9} {
		keep := layerKeep(7, 3, 200, 50, p)
		scale := float32(1 / (1 - p))
		zeros := 0
		for _, k := range keep {
			switch k {
			case 0:
				zeros++
			case scale:
			default:
				t.Fatalf("p %g: scale %g, want 0 or %g", p, k, scale)
			}
		}
		if got := float64(zeros) / float64(len(keep)); math.Abs(got-p) > 0.02 {
			t.Errorf("p %g: %.3f of blocks skipped", p, got)
		}
		if !slices.Equal(keep, layerKeep(7, 3, 200, 50, p)) {
			t.Errorf("p %g: not a function of (seed, step)", p)
		}
		if slices.Equal(keep, layerKeep(7, 4, 200, 50, p)) || slices.Equal(keep, layerKeep(8, 3, 200, 50, p)) {
			t.Errorf("p %g: another step or seed draws the same", p)
		}
	}
}

// A training step in which LayerDrop skips every block of every sequence
// gives the blocks no gradient (without weight decay their weights stay
// exactly as they were) while the embedding still learns; with drawn keeps
// the losses are deterministic and differ from a run without LayerDrop.
func TestLayerDropSkipsBlocks(t *testing.T) {
	r := tinyRun()
	r.Train.Optimizer.WeightDecay = 0
	r.Train.LayerDrop = 0.9
	const batch, T = 4, 12
	allSkipped := -1
	for s := 0; s < 1000 && allSkipped < 0; s++ {
		if !slices.ContainsFunc(layerKeep(3, s, batch, r.Model.Layers, r.Train.LayerDrop), func(k float32) bool { return k != 0 }) {
			allSkipped = s
		}
	}
	if allSkipped < 0 {
		t.Fatal("no step skips every block")
	}
	m := newModel(t, r, 3)
	tok := countingBatch(rand.New(rand.NewPCG(1, 1)), batch, T, 16)
	wqkv, embed := flat(m.blocks[0].wqkv), flat(m.embed)
	if _, err := m.TrainStep(tok, batch, allSkipped); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(wqkv, flat(m.blocks[0].wqkv)) {
		t.Error("a skipped block's weights changed")
	}
	if slices.Equal(embed, flat(m.embed)) {
		t.Error("the embedding did not change")
	}

	losses := func(p float64) []float64 {
		r.Train.LayerDrop = p
		m := newModel(t, r, 3)
		var out []float64
		for s := range 5 {
			l, err := m.TrainStep(tok, batch, s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, l)
		}
		return out
	}
	a, b, none := losses(0.5), losses(0.5), losses(0)
	if !slices.Equal(a, b) {
		t.Errorf("LayerDrop runs differ: %v vs %v", a, b)
	}
	if slices.Equal(a, none) {
		t.Errorf("LayerDrop 0.5 trains exactly as without it: %v", a)
	}
}

// With a batch of 8 the Go backend splits it into two halves, each with its
// rows of the keep mask: the losses and gradient norms agree with the
// unsplit graph, for each way a block adds to the residual stream.
func TestLayerDropSplitBatch(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*config.Run)
	}{
		{"pre-norm", func(*config.Run) {}},
		{"post-norm", func(r *config.Run) { r.Model.Norm.Placement = "post" }},
		{"parallel", func(r *config.Run) { r.Model.Residual = "parallel" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := tinyRun()
			r.Train.LayerDrop = 0.5
			c.edit(&r)
			const batch, T = 8, 12
			tok := countingBatch(rand.New(rand.NewPCG(2, 2)), batch, T, 16)
			run := func(split bool) (loss, norm []float64) {
				sw := defaultFast
				sw.split = split
				m, err := build(testBackend(t), r.Model, r.Train, 5, sw, nil)
				if err != nil {
					t.Fatal(err)
				}
				for s := range 3 {
					l, err := m.TrainStep(tok, batch, s)
					if err != nil {
						t.Fatal(err)
					}
					loss, norm = append(loss, l), append(norm, m.GradNorm())
				}
				return loss, norm
			}
			l1, n1 := run(true)
			l0, n0 := run(false)
			for i := range l1 {
				if math.Abs(l1[i]-l0[i]) > 1e-5 || math.Abs(n1[i]-n0[i]) > 1e-4*math.Max(1, n0[i]) {
					t.Errorf("step %d: split loss %v grad norm %v, unsplit %v %v", i, l1[i], n1[i], l0[i], n0[i])
				}
			}
		})
	}
}
