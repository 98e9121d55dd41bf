package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/sinkrun/sinkrun/config"
)

// TestFastRulesMatchStock checks every node kind the fast path marks, and
// the graph paths built from them, node by node: the gradient of a random
// linear functional sum(R ⊙ f(inputs)) with respect to each input, with the
// fast rules on, equals GoMLX's stock gradient (fast path off).
func TestFastRulesMatchStock(t *testing.T) {
	enableFastPath()
	const B, T, S, H, dh, D = 2, 3, 5, 2, 4, 8
	io, oi := compute.DenseLayoutInputOutputs, compute.DenseLayoutOutputsInput
	cases := []struct {
		name   string
		dims   [][]int
		marked fastKind // the kind of the output node with the fast path on (0: a path of several)
		f      func(on fastSwitches, in []*Node) *Node
	}{
		{"dense [in, out]", [][]int{{B, T, D}, {D, 6}}, fastDenseIO, func(on fastSwitches, in []*Node) *Node { return on.dense(in[0], in[1], nil, io) }},
		{"dense [out, in]", [][]int{{B, T, D}, {6, D}}, fastDenseOI, func(on fastSwitches, in []*Node) *Node { return on.dense(in[0], in[1], nil, oi) }},
		{"attention scores", [][]int{{B, H, T, dh}, {B, H, S, dh}}, fastAttnScores, func(on fastSwitches, in []*Node) *Node { return on.attnScores(in[0], in[1]) }},
		{"attention mix", [][]int{{B, H, T, S}, {B, H, S, dh}}, fastAttnMix, func(on fastSwitches, in []*Node) *Node { return on.attnMix(in[0], in[1]) }},
		{"rmsnorm", [][]int{{B, T, D}, {D}}, fastRMSNorm, func(on fastSwitches, in []*Node) *Node { return on.rmsNorm(in[0], in[1], 1e-5) }},
		{"softmax over the last axis", [][]int{{B, H, T, S}}, fastSoftmax, func(on fastSwitches, in []*Node) *Node { return on.softmaxFast(in[0]) }},
		{"slot key concatenated before the keys", [][]int{{B, H, T, dh}, {B, H, S, dh}, {1, H, 1, dh}}, 0, func(on fastSwitches, in []*Node) *Node {
			return on.attnScores(in[0], Concatenate([]*Node{BroadcastToDims(in[2], B, H, 1, dh), in[1]}, 2))
		}},
		{"slot value concatenated before the values", [][]int{{B, H, T, S + 1}, {B, H, S, dh}, {1, H, 1, dh}}, 0, func(on fastSwitches, in []*Node) *Node {
			return on.attnMix(in[0], Concatenate([]*Node{BroadcastToDims(in[2], B, H, 1, dh), in[1]}, 2))
		}},
		{"sink logit column before the scores (softmax)", [][]int{{B, H, T, S}, {1, H, 1, 1}}, 0, func(on fastSwitches, in []*Node) *Node {
			return on.softmaxFast(withLeadingColumn(in[0], in[1]))
		}},
		{"q, k, v by column slices of wqkv", [][]int{{B, T, D}, {D, 3 * H * dh}}, 0, func(on fastSwitches, in []*Node) *Node {
			q, k, v := on.qkvHeads(in[0], in[1], nil, H, H, dh)
			return Concatenate([]*Node{q, k, v}, 0)
		}},
		{"q, k, v with biases and one key/value head (grouped-query)", [][]int{{B, T, D}, {D, (H + 2) * dh}, {(H + 2) * dh}}, 0, func(on fastSwitches, in []*Node) *Node {
			q, k, v := on.qkvHeads(in[0], in[1], in[2], H, 1, dh)
			return Concatenate([]*Node{q, k, v}, 0)
		}},
		{"linear attention's mlp kernel", [][]int{{B, H, T, dh}, {dh, dh}, {dh, dh}}, 0, func(on fastSwitches, in []*Node) *Node {
			op := OpInput{Attn: config.Attention{Op: "linear", Kernel: "mlp"}, Params: map[string]*Node{"kernel_w1": in[1], "kernel_w2": in[2]}, fast: on}
			phi := attentionGraphs["linear"].Features(op, in[0])
			return on.attnScores(phi, phi)
		}},
		{"head gate", [][]int{{B, T, D}, {D, H}, {B, T, H, dh}}, 0, func(on fastSwitches, in []*Node) *Node {
			gate := Reshape(Sigmoid(on.dense(in[0], in[1], nil, io)), B, T, H, 1)
			return Mul(in[2], gate)
		}},
		{"element gate", [][]int{{B, T, D}, {D, H * dh}, {B, T, H, dh}}, 0, func(on fastSwitches, in []*Node) *Node {
			return Mul(in[2], Reshape(Sigmoid(on.dense(in[0], in[1], nil, io)), B, T, H, dh))
		}},
		{"head sum into W_o", [][]int{{B, T, H, dh}, {dh, D}}, 0, func(on fastSwitches, in []*Node) *Node {
			return on.dense(ReduceSum(in[0], 2), in[1], nil, io)
		}},
	}
	b := testBackend(t)
	if b.String() != "go" {
		t.Skip("the fast rules apply on the Go backend only")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var inputs []any
			for _, d := range c.dims {
				n := 1
				for _, x := range d {
					n *= x
				}
				vals := make([]float32, n)
				for i := range vals {
					vals[i] = float32(rng.NormFloat64())
				}
				inputs = append(inputs, tensors.FromFlatDataAndDimensions(vals, d...))
			}
			seed := rng.Uint64()
			grads := func(sw fastSwitches) [][]float32 {
				exec, err := NewExec(b, func(in []*Node) []*Node {
					out := c.f(sw, in)
					if c.marked != 0 && sw.fusedDense && fastKindOf(out) != c.marked {
						t.Errorf("the output node is not marked %d (got %d): the fast rule is not exercised", c.marked, fastKindOf(out))
					}
					r := rand.New(rand.NewPCG(seed, 1))
					weights := make([]float32, out.Shape().Size())
					for i := range weights {
						weights[i] = float32(r.NormFloat64())
					}
					R := Reshape(Const(out.Graph(), weights), out.Shape().Dimensions...)
					return Gradient(ReduceAllSum(Mul(out, R)), in...)
				})
				if err != nil {
					t.Fatal(err)
				}
				outs, err := exec.Call(inputs...)
				if err != nil {
					t.Fatal(err)
				}
				var res [][]float32
				for _, o := range outs {
					res = append(res, tensors.MustCopyFlatData[float32](o))
				}
				return res
			}
			fast, stock := grads(parseFastPath("")), grads(parseFastPath("off"))
			for i := range stock {
				for j := range stock[i] {
					if d := math.Abs(float64(fast[i][j] - stock[i][j])); d > 1e-5*math.Max(1, math.Abs(float64(stock[i][j]))) {
						t.Fatalf("input %d value %d: fast gradient %v, stock %v", i, j, fast[i][j], stock[i][j])
					}
				}
			}
		})
	}
}

// TestFastSoftmaxRuleOnlyForItsAxis: a fused softmax node that softmaxFast
// did not build (here over axis 0 of a matrix) is not given the last-axis
// rule: with no stock rule in the table it fails as GoMLX fails for a node
// without a gradient, instead of returning a wrong gradient.
func TestFastSoftmaxRuleOnlyForItsAxis(t *testing.T) {
	enableFastPath()
	x := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	fused := false
	exec, err := NewExec(testBackend(t), func(in *Node) *Node {
		var y *Node
		y, fused = InternalFusedOpCaller(func() *Node { return BackendFusedSoftmax(in, 0) }, func() *Node { return Softmax(in, 0) }, false)
		return Gradient(ReduceAllSum(Mul(y, y)), in)[0]
	})
	if err == nil {
		_, err = exec.Call(x)
	}
	switch {
	case !fused:
		t.Skip("the backend has no fused softmax")
	case err == nil:
		t.Error("a softmax over axis 0 got a gradient from the last-axis rule")
	case !strings.Contains(err.Error(), "no gradient is defined"):
		t.Errorf("err = %v, want GoMLX's missing-gradient error", err)
	}
}
