package model

// The whole decoder, nanoGPT-style: embedding → L blocks → final norm (pre-norm
// only) → output projection. Shapes: B batch, T sequence, D d_model, H heads,
// dh head width, F FFN hidden width, V vocabulary.

import (
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	gmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/nn"
)

// normParams are the weights of one normalisation layer (bias only for layernorm).
type normParams struct{ gain, bias *gmodel.Variable }

// blockParams are the weights of one decoder block. Projections are stored
// [in, out] (x @ W), except w2, stored [out, in]: the fused Dense gradient
// transposes x for [in, out] weights and dy for [out, in] ones, so each
// weight uses the layout with the narrower transpose. For gated FFNs w1 is
// [D, 2F]: the gate (W1) then the value (W2) halves, so one matmul computes both.
type blockParams struct {
	norm1, norm2 normParams
	wqkv         *gmodel.Variable // [D, 3*H*dh]: q, k, v
	wo           *gmodel.Variable // [H*dh, D]
	w1           *gmodel.Variable // [D, F] or [D, 2F] (gated)
	w2           *gmodel.Variable // [D, F], applied as x @ w2^T (the paper's W3 of gated units)
}

// probeRecord collects the probe's per-layer tensors; nil during training.
type probeRecord struct {
	attention []*Node // [N,H,T,T]
	hidden    []*Node // [N,T]
	keys      []*Node // [N,H,T]
	values    []*Node // [N,H,T]
}

// forward maps tokens [B,T] (int32) to logits [B,T,V]; with a probe record it
// records the probe tensors and returns nil.
func (m *Model) forward(scope *gmodel.Scope, tokens *Node, rec *probeRecord) *Node {
	g := tokens.Graph()
	T := tokens.Shape().Dim(1)
	x := Gather(m.embed.NodeValue(g), InsertAxes(tokens, -1)) // [B,T,D]

	mask := newCausalMask(g, T)
	var rope *ropeTables
	if m.cfg.Position.Kind == "rope" {
		rope = newRopeTables(g, T, m.headDim, m.cfg.Position.Base)
	}
	post := m.cfg.Norm.Placement == "post"
	for l, bp := range m.blocks {
		ls := scope.In("layer_%d", l)
		if post {
			x = m.norm(g, bp.norm1, Add(x, m.attention(ls, l, bp, x, mask, rope, rec)))
			x = m.norm(g, bp.norm2, Add(x, m.ffn(g, bp, x)))
		} else {
			x = Add(x, m.attention(ls, l, bp, m.norm(g, bp.norm1, x), mask, rope, rec))
			x = Add(x, m.ffn(g, bp, m.norm(g, bp.norm2, x)))
		}
		if rec != nil {
			rec.hidden = append(rec.hidden, StopGradient(rowNorm(x))) // [N,T]
		}
	}
	if rec != nil {
		return nil // the probe needs no logits
	}
	if !post {
		x = m.norm(g, m.finalNorm, x)
	}
	if m.cfg.Tied {
		return nn.Dense(x, m.embed.NodeValue(g), nil, compute.DenseLayoutOutputsInput) // x @ E^T
	}
	return nn.Dense(x, m.head.NodeValue(g), nil, compute.DenseLayoutInputOutputs)
}

// attention is causal multi-head attention with the configured op.
func (m *Model) attention(scope *gmodel.Scope, layer int, bp blockParams, x *Node, mask causalMask, rope *ropeTables, rec *probeRecord) *Node {
	g := x.Graph()
	B, T := x.Shape().Dim(0), x.Shape().Dim(1)
	H, dh := m.cfg.Heads, m.headDim
	qkv := nn.Dense(x, bp.wqkv.NodeValue(g), nil, compute.DenseLayoutInputOutputs) // [B,T,3*H*dh]
	// One transpose to head-major [3,B,H,T,dh]: the attention products then have
	// their batch axes (B,H) leading, the layout the matmul kernels take without copies.
	qkv = TransposeAllAxes(Reshape(qkv, B, T, 3, H, dh), 2, 0, 3, 1, 4)
	q := Reshape(SliceAxis(qkv, 0, AxisElem(0)), B, H, T, dh)
	k := Reshape(SliceAxis(qkv, 0, AxisElem(1)), B, H, T, dh)
	v := Reshape(SliceAxis(qkv, 0, AxisElem(2)), B, H, T, dh)
	scale := 1 / math.Sqrt(float64(dh))
	if rope != nil {
		q = rope.apply(q, scale) // the 1/sqrt(dh) score scale is folded into q's tables
		k = rope.apply(k, 1)
	} else {
		q = MulScalar(q, scale)
	}
	// scores[b,h,t,s] = q[b,h,t,:]·k[b,h,s,:] / sqrt(dh)
	scores := DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}) // [B,H,T,S]
	w := m.op.Weights(OpInput{Scores: scores, Allowed: mask.allowed, NegMask: mask.neg,
		Attn: m.cfg.Attention, Layer: layer, Scope: scope})
	if rec != nil {
		rec.attention = append(rec.attention, StopGradient(w))
		rec.keys = append(rec.keys, StopGradient(rowNorm(k)))     // [N,H,T]
		rec.values = append(rec.values, StopGradient(rowNorm(v))) // [N,H,T]
	}
	// o[b,h,t,:] = sum_s w[b,h,t,s] v[b,h,s,:]
	o := DotGeneral(w, []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1}) // [B,H,T,dh]
	o = Reshape(TransposeAllAxes(o, 0, 2, 1, 3), B, T, H*dh)
	return nn.Dense(o, bp.wo.NodeValue(g), nil, compute.DenseLayoutInputOutputs) // [B,T,D]
}

// ffn is the feed-forward block: W2(act(W1 x)), or W3(act(W1 x) * W2 x) for gated kinds.
func (m *Model) ffn(g *Graph, bp blockParams, x *Node) *Node {
	w1, w2 := bp.w1.NodeValue(g), bp.w2.NodeValue(g)
	var h *Node
	switch m.cfg.FFN.Kind {
	case "swiglu":
		h = activation.SwiGLU(nn.Dense(x, w1, nil, compute.DenseLayoutInputOutputs)) // fused swish(gate)*value
	case "geglu", "reglu":
		gv := nn.Dense(x, w1, nil, compute.DenseLayoutInputOutputs)
		F := gv.Shape().Dim(-1) / 2
		gate, value := SliceAxis(gv, -1, AxisRange(0, F)), SliceAxis(gv, -1, AxisRange(F, 2*F))
		if m.cfg.FFN.Kind == "geglu" {
			gate = activation.Gelu(gate)
		} else {
			gate = activation.Relu(gate)
		}
		h = Mul(gate, value)
	case "relu":
		h = nn.Dense(x, w1, nil, compute.DenseLayoutInputOutputs, activation.TypeRelu)
	case "gelu":
		h = nn.Dense(x, w1, nil, compute.DenseLayoutInputOutputs, activation.TypeGelu)
	case "swish":
		h = nn.Dense(x, w1, nil, compute.DenseLayoutInputOutputs, activation.TypeSwish)
	}
	return nn.Dense(h, w2, nil, compute.DenseLayoutOutputsInput)
}

// norm normalises over the last axis: RMSNorm x/sqrt(mean(x²)+eps)*w, or LayerNorm with gain and bias.
func (m *Model) norm(g *Graph, p normParams, x *Node) *Node {
	eps := m.cfg.Norm.Eps
	if m.cfg.Norm.Kind == "layernorm" {
		return nn.LayerNorm(x, []int{-1}, eps, p.gain.NodeValue(g), p.bias.NodeValue(g), nil)
	}
	// Sqrt and Div rather than Rsqrt: Rsqrt has no gradient in GoMLX.
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	return Mul(Div(x, Sqrt(AddScalar(ms, eps))), ExpandLeftToRank(p.gain.NodeValue(g), x.Rank()))
}

// causalMask holds the causal mask in the two forms ops use.
type causalMask struct {
	allowed *Node // bool [1,1,T,T], true where s <= t
	neg     *Node // float32 [1,1,T,T], 0 where allowed, negBig elsewhere
}

func newCausalMask(g *Graph, T int) causalMask {
	allowed := make([]bool, T*T)
	neg := make([]float32, T*T)
	for t := 0; t < T; t++ {
		for s := 0; s < T; s++ {
			if s <= t {
				allowed[t*T+s] = true
			} else {
				neg[t*T+s] = negBig
			}
		}
	}
	return causalMask{
		allowed: Reshape(Const(g, allowed), 1, 1, T, T),
		neg:     Reshape(Const(g, neg), 1, 1, T, T),
	}
}

// ropeTables hold RoPE's rotate-half tables, shaped [1,1,T,dh] to broadcast over [B,H,T,dh]:
// rope(x) = x*cos + rotate_half(x)*sin, rotate_half(x) = concat(-x2, x1).
type ropeTables struct {
	cos, sinSigned []float32 // sinSigned = concat(-sin, sin) per half, so rope(x) = x*cos + concat(x2,x1)*sinSigned
	T, dh          int
	g              *Graph
}

func newRopeTables(g *Graph, T, dh int, base float64) *ropeTables {
	half := dh / 2
	r := &ropeTables{cos: make([]float32, T*dh), sinSigned: make([]float32, T*dh), T: T, dh: dh, g: g}
	for t := 0; t < T; t++ {
		for i := 0; i < half; i++ {
			// float32 like torch_ref.py: inv = 1/base^(2i/dh) in float32, angle = t*inv in float32.
			inv := float32(1.0 / math.Pow(base, float64(2*i)/float64(dh)))
			ang := float64(float32(t) * inv)
			c, s := float32(math.Cos(ang)), float32(math.Sin(ang))
			r.cos[t*dh+i], r.cos[t*dh+half+i] = c, c
			r.sinSigned[t*dh+i], r.sinSigned[t*dh+half+i] = -s, s
		}
	}
	return r
}

// apply rotates x [B,H,T,dh]; scale multiplies the result (folded into the tables).
func (r *ropeTables) apply(x *Node, scale float64) *Node {
	cos, sin := r.cos, r.sinSigned
	if scale != 1 {
		cos, sin = scaled(cos, scale), scaled(sin, scale)
	}
	cosN := Reshape(Const(r.g, cos), 1, 1, r.T, r.dh)
	sinN := Reshape(Const(r.g, sin), 1, 1, r.T, r.dh)
	// concat(x2, x1) as a Reverse of the two halves: one block copy, whose
	// gradient is again a Reverse (slices and concat would add pads in the backward pass).
	dims := x.Shape().Dimensions
	halves := append(append([]int(nil), dims[:len(dims)-1]...), 2, r.dh/2)
	swapped := Reshape(Reverse(Reshape(x, halves...), len(halves)-2), dims...)
	return Add(Mul(x, cosN), Mul(swapped, sinN))
}

func scaled(xs []float32, s float64) []float32 {
	out := make([]float32, len(xs))
	for i, x := range xs {
		out[i] = float32(float64(x) * s)
	}
	return out
}

// crossEntropy is the mean next-token cross-entropy of logits [B,T,V] against targets [B,T].
func crossEntropy(logits, targets *Node) *Node {
	V := logits.Shape().Dim(-1)
	logp := LogSoftmax(logits, -1)
	onehot := OneHot(targets, V, logits.DType())
	nll := Neg(ReduceSum(Mul(logp, onehot), -1)) // [B,T]
	return ReduceAllMean(nll)
}

// rowNorm is the L2 norm over the last axis, which is dropped.
func rowNorm(x *Node) *Node { return Sqrt(ReduceSum(Square(x), -1)) }
