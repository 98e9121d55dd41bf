package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	gmodel "github.com/gomlx/gomlx/ml/model"

	"github.com/sinkrun/sinkrun/config"
)

// Each feature of the Hugging Face families has a test of its defining
// property here; TestVariantsMatchReference checks them all against the
// float64 reference and TestVariantsTrainOneStep trains each one step.

// TestKVHeadsShareKeysAndValues: with one key/value head, both query heads
// see the same keys and values, and attend differently.
func TestKVHeadsShareKeysAndValues(t *testing.T) {
	r := tinyRun()
	r.Model.KVHeads = 1
	m := newModel(t, r, 1)
	const N, T = 2, 6
	p, err := m.Probe(randomTokens(rand.New(rand.NewPCG(1, 1)), N*T, 16), N, T)
	if err != nil {
		t.Fatal(err)
	}
	mapsDiffer := false
	for l := 0; l < p.Layers; l++ {
		for n := 0; n < N; n++ {
			for s := 0; s < T; s++ {
				h0, h1 := (n*2+0)*T+s, (n*2+1)*T+s
				if p.Keys[l][h0] != p.Keys[l][h1] || p.Values[l][h0] != p.Values[l][h1] {
					t.Fatalf("layer %d seq %d position %d: heads 0 and 1 have different keys or values", l, n, s)
				}
			}
		}
		for i := 0; i < T*T; i++ {
			mapsDiffer = mapsDiffer || p.Attention[l][i] != p.Attention[l][T*T+i]
		}
	}
	if !mapsDiffer {
		t.Error("the query heads attend identically: the queries are shared too")
	}
}

// uniformRows reports whether every attention row of the probe's first
// layer is uniform over its visible (causal) keys.
func uniformRows(p *ProbeOutput) bool {
	T := p.T
	for row := 0; row < p.N*p.Heads*T; row++ {
		q := row % T
		for c := 0; c <= q; c++ {
			if math.Abs(float64(p.Attention[0][row*T+c])-1/float64(q+1)) > 1e-6 {
				return false
			}
		}
	}
	return true
}

// TestQKVBiasAndRotaryDims: with zero q/k/v weights, q and k are their
// biases, the same at every position. Without rotation every row is then
// uniform; a bias in the rotated dimensions makes the scores depend on the
// position, one only in the dimensions past rotary_dims does not.
func TestQKVBiasAndRotaryDims(t *testing.T) {
	const dh, rd = 16, 4
	for _, c := range []struct {
		name    string
		pos     string
		biasDim int // the q and k bias are 1 in this dimension of every head
		uniform bool
	}{
		{"nope", "nope", 0, true},
		{"rotated dimension", "rope", 1, false},
		{"dimension past rotary_dims", "rope", rd + 3, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := tinyRun()
			r.Model.LinearBias, r.Model.Position.Kind, r.Model.Position.RotaryDims = "qkv", c.pos, rd
			m := newModel(t, r, 1)
			H := r.Model.Heads
			b := make([]float32, 3*H*dh)
			for h := 0; h < 2*H; h++ { // q and k heads
				b[h*dh+c.biasDim] = 3
			}
			vals := map[string][]float32{}
			for l := 0; l < r.Model.Layers; l++ {
				vals[pathf("/layer_%d/attn/wqkv", l)] = make([]float32, r.Model.DModel*3*H*dh)
				vals[pathf("/layer_%d/attn/bqkv", l)] = b
			}
			if err := m.SetParams(vals); err != nil {
				t.Fatal(err)
			}
			p, err := m.Probe(randomTokens(rand.New(rand.NewPCG(2, 2)), 8, 16), 1, 8)
			if err != nil {
				t.Fatal(err)
			}
			if got := uniformRows(p); got != c.uniform {
				t.Errorf("rows uniform: %v, want %v", got, c.uniform)
			}
		})
	}
}

// TestLearnableOffset: offset o reads rows o.. of the table, so it equals
// offset 0 with the table's first o rows removed.
func TestLearnableOffset(t *testing.T) {
	a, b := tinyRun(), tinyRun()
	a.Model.Position = config.Position{Kind: "learnable", Length: 10, Offset: 2}
	b.Model.Position = config.Position{Kind: "learnable", Length: 8}
	ma, mb := newModel(t, a, 1), newModel(t, b, 1)
	table, _, err := ma.Param("/position/learnable")
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string][]float32{"/position/learnable": table[2*32:]}
	for _, p := range ma.Params() {
		if p.Path != "/position/learnable" {
			vals[p.Path], _, _ = ma.Param(p.Path)
		}
	}
	if err := mb.SetParams(vals); err != nil {
		t.Fatal(err)
	}
	tok := randomTokens(rand.New(rand.NewPCG(3, 3)), 2*8, 16)
	pa, err := ma.Probe(tok, 2, 8)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := mb.Probe(tok, 2, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pa.Hidden[1] {
		if pa.Hidden[1][i] != pb.Hidden[1][i] {
			t.Fatalf("hidden %d: offset 2 gives %v, the shifted table %v", i, pa.Hidden[1][i], pb.Hidden[1][i])
		}
	}
	if _, err := ma.Probe(randomTokens(rand.New(rand.NewPCG(3, 3)), 9, 16), 1, 9); err == nil {
		t.Error("9 positions + offset 2 fit a table of 10 rows")
	}
}

// TestGELUKinds: ffn gelu is the exact erf GELU and gelu_tanh the tanh
// approximation (Hugging Face gelu_new), element by element: w1 and w2 are
// set so the FFN's output is the activation of its input.
func TestGELUKinds(t *testing.T) {
	xs := make([]float32, 32)
	for i := range xs {
		xs[i] = -4 + 8*float32(i)/31
	}
	exact := func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	tanhApprox := func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}
	for kind, want := range map[string]func(float64) float64{"gelu": exact, "gelu_tanh": tanhApprox} {
		r := tinyRun()
		r.Model.FFN.Kind = kind
		m := newModel(t, r, 1)
		D, F := 32, 64
		w1, w2 := make([]float32, D*F), make([]float32, D*F)
		for i := 0; i < D; i++ {
			w1[i*F+i], w2[i*F+i] = 1, 1 // h_i = act(x_i), y_i = h_i
		}
		if err := m.SetParams(map[string][]float32{"/layer_0/ffn/w1": w1, "/layer_0/ffn/w2": w2}); err != nil {
			t.Fatal(err)
		}
		exec, err := gmodel.NewExec(testBackend(t), m.store, func(scope *gmodel.Scope, x *Node) *Node {
			asParameters(scope, x.Graph())
			return m.ffn(x.Graph(), m.blocks[0], x)
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Call(tensors.FromFlatDataAndDimensions(xs, 1, 1, D))
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](outs[0])
		other := 0.0
		for i, x := range xs {
			if d := math.Abs(float64(got[i]) - want(float64(x))); d > 2e-6 {
				t.Errorf("%s(%v) = %v, want %v", kind, x, got[i], want(float64(x)))
			}
			other = math.Max(other, math.Abs(exact(float64(x))-tanhApprox(float64(x))))
		}
		if other < 1e-4 {
			t.Fatalf("the two GELUs differ by at most %g on the inputs: the test cannot tell them apart", other)
		}
	}
}

// TestParallelResidual: a parallel block's FFN reads the block's input, not
// the attention's output: with the FFN's output projection zero, parallel
// and sequential blocks agree; with the attention's zero, they agree too;
// with both on, they differ.
func TestParallelResidual(t *testing.T) {
	probe := func(residual string, zero ...string) []float32 {
		r := tinyRun()
		r.Model.Residual = config.Residual(residual)
		m := newModel(t, r, 1)
		vals := map[string][]float32{}
		for _, p := range m.Params() {
			for _, z := range zero {
				if len(p.Path) > len(z) && p.Path[len(p.Path)-len(z):] == z {
					vals[p.Path] = make([]float32, p.Size())
				}
			}
		}
		if err := m.SetParams(vals); err != nil {
			t.Fatal(err)
		}
		p, err := m.Probe(randomTokens(rand.New(rand.NewPCG(5, 5)), 8, 16), 1, 8)
		if err != nil {
			t.Fatal(err)
		}
		return p.Hidden[1]
	}
	same := func(a, b []float32) bool {
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-5*math.Max(1, math.Abs(float64(a[i]))) {
				return false
			}
		}
		return true
	}
	if !same(probe("parallel", "/ffn/w2"), probe("sequential", "/ffn/w2")) {
		t.Error("without FFN output, parallel and sequential differ")
	}
	if !same(probe("parallel", "/attn/wo"), probe("sequential", "/attn/wo")) {
		t.Error("without attention output, parallel and sequential differ")
	}
	if same(probe("parallel"), probe("sequential")) {
		t.Error("parallel and sequential blocks agree: the FFN reads the attention's output")
	}
}

// TestRopeScaling: linear scaling divides every inverse frequency by the
// factor; llama3 divides the low frequencies, keeps the high ones and
// blends in between (monotonically).
func TestRopeScaling(t *testing.T) {
	base := config.Position{Kind: "rope", Base: 500000}
	plain := ropeInvFreq(base, 64)
	lin := base
	lin.Scaling, lin.Factor = "linear", 4
	for i, x := range ropeInvFreq(lin, 64) {
		if math.Abs(float64(x)-float64(plain[i])/4) > 1e-6*float64(plain[i]) {
			t.Errorf("linear %d: %v, want %v/4", i, x, plain[i])
		}
	}
	l3 := base
	l3.Scaling, l3.Factor, l3.LowFreqFactor, l3.HighFreqFactor, l3.OriginalContext = "llama3", 8, 1, 4, 8192
	var kept, scaled, blended int
	for i, x := range ropeInvFreq(l3, 64) {
		wavelen := 2 * math.Pi / float64(plain[i])
		ratio := float64(x) / float64(plain[i])
		switch {
		case wavelen < 8192/4.0:
			kept++
			if math.Abs(ratio-1) > 1e-6 {
				t.Errorf("high frequency %d: ratio %v, want 1", i, ratio)
			}
		case wavelen > 8192:
			scaled++
			if math.Abs(ratio-1.0/8) > 1e-6 {
				t.Errorf("low frequency %d: ratio %v, want 1/8", i, ratio)
			}
		default:
			blended++
			if ratio < 1.0/8 || ratio > 1 {
				t.Errorf("medium frequency %d: ratio %v outside [1/8, 1]", i, ratio)
			}
		}
	}
	if kept == 0 || scaled == 0 || blended == 0 {
		t.Errorf("bands: %d kept, %d scaled, %d blended: the test does not reach every band", kept, scaled, blended)
	}
}

func pathf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
