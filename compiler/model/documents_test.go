package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

// A packed window of three documents, separated by token 15: the second
// document is tokens 4..8 (15 4 9 1 8), the third 9..11.
var packedWindow = []int32{3, 5, 7, 2, 15, 4, 9, 1, 8, 15, 6, 2}

const docToken = 15

func TestDocumentsIndices(t *testing.T) {
	r := tinyRun()
	r.Model.DocumentMask, r.Model.DocumentToken = true, docToken
	m := newModel(t, r, 1)
	two := append(slices.Clone(packedWindow), 15, 1, 2, 3, 15, 15, 4, 5, 6, 7, 8, 9)
	got := m.Documents(two, 2, len(packedWindow))
	want := []int32{0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3, 3}
	if !slices.Equal(got, want) {
		t.Fatalf("Documents = %v, want %v", got, want)
	}
	r.Model.DocumentMask = false
	if d := newModel(t, r, 1).Documents(two, 2, len(packedWindow)); d != nil {
		t.Fatalf("without a document mask Documents = %v, want nil", d)
	}
}

// With the document mask, a document inside a packed window is computed as
// if it stood alone: with RoPE (relative positions) or no positions its
// attention rows and hidden states equal those of the document probed on
// its own, its queries give other documents' keys exactly 0, and a slot
// (key bias) stays visible. Without the mask the same rows differ.
func TestDocumentMaskIsolatesDocuments(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*config.Model)
		// alone: the document's rows must equal the document probed alone
		// (false where a position-carrying slot, the sink token, breaks it).
		alone bool
	}{
		{"rope", func(*config.Model) {}, true},
		{"nope", func(m *config.Model) { m.Position = config.Position{Kind: "nope"} }, true},
		{"sigmoid", func(m *config.Model) {
			m.Attention = config.Attention{Op: "sigmoid", Z: "one", Alpha: 1, Kernel: "elu", Gate: "none"}
		}, true},
		// The slot key is not rotated while q is, so its score depends on
		// the query's absolute position: only the zeros and the slot are checked.
		{"key_bias", func(m *config.Model) { m.Bias = config.Bias{Kind: "k", Value: "zero", M: 1} }, false},
		{"sink_token", func(m *config.Model) { m.Bias = config.Bias{Kind: "sink_token", Value: "zero", M: 1} }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tinyRun()
			tc.modify(&r.Model)
			plain := newModel(t, r, 3)
			r.Model.DocumentMask, r.Model.DocumentToken = true, docToken
			m := newModel(t, r, 3) // same seed: same weights
			rng := rand.New(rand.NewPCG(4, 4))
			for s := range 3 { // move the weights off their initial values
				batch := randomTokens(rng, 4*(len(packedWindow)+1), 16)
				if _, err := m.TrainStep(batch, 4, s); err != nil {
					t.Fatal(err)
				}
				if _, err := plain.TrainStep(batch, 4, s); err != nil {
					t.Fatal(err)
				}
			}
			T := len(packedWindow)
			packed, err := m.Probe(packedWindow, 1, T)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := 4, 9 // the second document
			alone, err := m.Probe(packedWindow[lo:hi], 1, hi-lo)
			if err != nil {
				t.Fatal(err)
			}
			noMask, err := plain.Probe(packedWindow, 1, T)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(packed.Documents, []int32{0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2}) {
				t.Fatalf("probe Documents = %v", packed.Documents)
			}
			S, H, n := packed.Slots, packed.Heads, hi-lo
			maxDiff, crossed, differs := 0.0, 0.0, 0.0
			for l := range packed.Layers {
				for h := range H {
					for q := 0; q < T; q++ {
						row := packed.Attention[l][(h*T+q)*(S+T) : (h*T+q+1)*(S+T)]
						plainRow := noMask.Attention[l][(h*T+q)*(S+T) : (h*T+q+1)*(S+T)]
						for k := 0; k < T; k++ {
							if packed.Documents[k] != packed.Documents[q] {
								crossed = math.Max(crossed, math.Abs(float64(row[S+k])))
							}
						}
						if q < lo || q >= hi {
							continue
						}
						differs = math.Max(differs, math.Abs(float64(row[S+lo]-plainRow[S+lo])))
						if !tc.alone {
							continue
						}
						aq := q - lo
						aRow := alone.Attention[l][(h*n+aq)*(S+n) : (h*n+aq+1)*(S+n)]
						for c := range S {
							maxDiff = math.Max(maxDiff, math.Abs(float64(row[c]-aRow[c])))
						}
						for k := lo; k < hi; k++ {
							maxDiff = math.Max(maxDiff, math.Abs(float64(row[S+k]-aRow[S+k-lo])))
						}
					}
				}
				if tc.alone {
					for q := lo; q < hi; q++ {
						a, b := float64(packed.Hidden[l][q]), float64(alone.Hidden[l][q-lo])
						maxDiff = math.Max(maxDiff, math.Abs(a-b)/math.Max(1, math.Abs(b)))
					}
				}
			}
			if crossed != 0 {
				t.Errorf("a query gives %g of its attention to another document's key, want 0", crossed)
			}
			if maxDiff > 1e-4 {
				t.Errorf("the second document differs from itself probed alone by up to %g", maxDiff)
			}
			if differs < 1e-4 {
				t.Errorf("without the mask the second document's attention to its first token is the same (%g): the test cannot tell", differs)
			}
			if S > 0 {
				slot := 0.0
				for l := range packed.Layers {
					for q := lo; q < hi; q++ {
						slot += float64(packed.Attention[l][q*(S+T)])
					}
				}
				if slot == 0 {
					t.Error("the slot column gets no attention from the second document: it should stay visible")
				}
			}
			loss, err := m.EvalLoss(randomTokens(rng, 2*(T+1), 16), 2)
			if err != nil || !finite(loss) {
				t.Fatalf("EvalLoss with a document mask: %v, %v", loss, err)
			}
		})
	}
}
