package model

// The whole decoder, nanoGPT-style: embedding → L blocks → final norm (pre-norm
// only) → output projection. Shapes: B batch, T sequence, D d_model, H heads,
// dh head width, F FFN hidden width, V vocabulary.

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	gmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/nn"

	"github.com/sinkrun/sinkrun/config"
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
	wo           *gmodel.Variable // [H*dh, D], or [dh, D] when heads are summed
	w1           *gmodel.Variable // [D, F] or [D, 2F] (gated)
	w2           *gmodel.Variable // [D, F], applied as x @ w2^T (the paper's W3 of gated units)

	// Optional parameters, nil when their setting is off.
	bqkv     *gmodel.Variable            // linear_bias qkv or all: [(H+2*KV)*dh]
	bo, b1   *gmodel.Variable            // linear_bias all: [D], [F or 2F]
	b2       *gmodel.Variable            // linear_bias all: [D]
	wg       *gmodel.Variable            // output gate: [D, H] (head) or [D, H*dh] (element)
	kStar    *gmodel.Variable            // bias k or kv: the slot key k*, [H or 1, d_a]
	vStar    *gmodel.Variable            // bias kv or v: the slot / output value v*, [H or 1, dh]
	opParams map[string]*gmodel.Variable // the attention op's parameters (AttentionOp.Params)
}

// probeRecord collects the probe's per-layer tensors; nil during training.
type probeRecord struct {
	attention []*Node // [N,H,T,Slots+T]
	hidden    []*Node // [N,T]
	keys      []*Node // [N,H,T]
	values    []*Node // [N,H,T]
}

// seqLayout describes the sequence one forward pass attends over.
type seqLayout struct {
	T       int  // tokens of the input
	seq     int  // positions of the residual stream: T, or T+1 with the sink token at 0
	off     int  // index of token 1 in the residual stream (1 with a sink token)
	keySlot bool // a K/KV-bias key column (column 0) before the keys
	masks   []attnMask
	rope    *ropeTables
	posBias *Node // ALiBi or relative-position bias [1,H,seq,keySlot+seq], or nil
}

// real drops the sink token (position 0) from an axis of length seq.
func (s *seqLayout) real(x *Node, axis int) *Node {
	if s.off == 0 {
		return x
	}
	return SliceAxis(x, axis, AxisRange(s.off, s.seq))
}

// forward maps tokens [B,T] (int32) to logits [B,T,V]; with a probe record it
// records the probe tensors and returns nil.
//
// keep, when not nil, is LayerDrop's [B, layers] scale of each sequence's
// blocks in a training step (0 for a skipped block, 1/(1-p) for a kept one;
// layerDrop.go); nil uses every block as is.
func (m *Model) forward(scope *gmodel.Scope, tokens, keep *Node, rec *probeRecord) *Node {
	g := tokens.Graph()
	B, T := tokens.Shape().Dim(0), tokens.Shape().Dim(1)
	x := Gather(m.embed.NodeValue(g), InsertAxes(tokens, -1)) // [B,T,D]

	lay := &seqLayout{T: T, seq: T, keySlot: m.blocks[0].kStar != nil}
	if m.sinkToken != nil {
		// The learned sink token sits before token 1, at position 0.
		D := m.cfg.DModel
		tok := BroadcastToDims(Reshape(m.sinkToken.NodeValue(g), 1, 1, D), B, 1, D)
		x = Concatenate([]*Node{tok, x}, 1)
		lay.seq, lay.off = T+1, 1
	}
	x = m.addPositions(g, x, lay.seq)
	lay.masks = m.newMasks(g, lay)
	if m.cfg.DocumentMask {
		lay.masks = m.documentMasks(tokens, lay, lay.masks)
	}
	switch m.cfg.Position.Kind {
	case "rope":
		lay.rope = newRopeTables(g, lay.seq, m.headDim, m.cfg)
	case "alibi", "relative":
		lay.posBias = m.positionBias(g, lay)
	}
	post := m.cfg.Norm.Placement == "post"
	for l, bp := range m.blocks {
		ls := scope.In("layer_%d", l)
		kept := func(y *Node) *Node { return keptBlock(keep, l, y) }
		switch {
		case post:
			x = m.norm(g, bp.norm1, Add(x, kept(m.attention(ls, l, bp, x, lay, rec))))
			x = m.norm(g, bp.norm2, Add(x, kept(m.ffn(g, bp, x))))
		case m.cfg.Residual == "parallel":
			x = Add(x, kept(Add(m.attention(ls, l, bp, m.norm(g, bp.norm1, x), lay, rec), m.ffn(g, bp, m.norm(g, bp.norm2, x)))))
		default:
			x = Add(x, kept(m.attention(ls, l, bp, m.norm(g, bp.norm1, x), lay, rec)))
			x = Add(x, kept(m.ffn(g, bp, m.norm(g, bp.norm2, x))))
		}
		if rec != nil {
			rec.hidden = append(rec.hidden, StopGradient(rowNorm(lay.real(x, 1)))) // [N,T]
		}
	}
	if rec != nil {
		return nil // the probe needs no logits
	}
	x = lay.real(x, 1)
	if !post {
		x = m.norm(g, m.finalNorm, x)
	}
	if m.cfg.Tied {
		return m.fast.dense(x, m.embed.NodeValue(g), nil, compute.DenseLayoutOutputsInput) // x @ E^T
	}
	return m.fast.dense(x, m.head.NodeValue(g), nil, compute.DenseLayoutInputOutputs)
}

// attention is multi-head attention with the configured op, mask, position
// bias, slots, gate and head combination. x is [B,seq,D].
func (m *Model) attention(scope *gmodel.Scope, layer int, bp blockParams, x *Node, lay *seqLayout, rec *probeRecord) *Node {
	g := x.Graph()
	B, T := x.Shape().Dim(0), x.Shape().Dim(1)
	H, dh := m.cfg.Heads, m.headDim
	// Head-major q, k, v [B,H,T,dh]: the attention products then have their
	// batch axes (B,H) leading, the layout the matmul kernels take without copies.
	var bqkv *Node
	if bp.bqkv != nil {
		bqkv = bp.bqkv.NodeValue(g)
	}
	q, k, v := m.fast.qkvHeads(x, bp.wqkv.NodeValue(g), bqkv, H, m.cfg.KVHeadsOrDefault(), dh)

	in := OpInput{Attn: m.cfg.Attention, Layer: layer, Scope: scope, fast: m.fast}
	if len(bp.opParams) > 0 {
		in.Params = make(map[string]*Node, len(bp.opParams))
		for name, p := range bp.opParams {
			in.Params[name] = p.NodeValue(g)
		}
	}
	scale := 1 / math.Sqrt(float64(dh))
	qScale := scale
	if m.op.Features != nil {
		qScale = 1 // the feature map sees unscaled q; the scale comes after it
	}
	if lay.rope != nil {
		q = lay.rope.apply(q, qScale) // the 1/sqrt(dh) score scale is folded into q's tables
		k = lay.rope.apply(k, 1)
	} else if qScale != 1 {
		q = MulScalar(q, qScale)
	}
	kPost := k // post-RoPE keys, for the probe
	if m.op.Features != nil {
		q = MulScalar(m.op.Features(in, q), scale)
		k = m.op.Features(in, k)
	}
	mixV := v // the values the weights mix (with a slot value when it is not zero)
	if bp.kStar != nil {
		// Slot column 0: the bias key k* (not rotated: it has no position).
		k = Concatenate([]*Node{BroadcastToDims(m.slotKey(g, bp), B, H, 1, dh), k}, 2)
		if vs := m.slotValue(g, bp); vs != nil {
			mixV = Concatenate([]*Node{BroadcastToDims(vs, B, H, 1, dh), v}, 2)
		}
	}
	// scores[b,h,t,s] = q[b,h,t,:]·k[b,h,s,:] / sqrt(dh)
	scores := m.fast.attnScores(q, k) // [B,H,T,S]
	if lay.posBias != nil {
		scores = Add(scores, lay.posBias)
	}
	mask := lay.masks[layer]
	in.Scores, in.Allowed, in.NegMask = scores, mask.allowed, mask.neg
	w := m.op.Weights(in)
	if rec != nil {
		rec.attention = append(rec.attention, StopGradient(lay.real(w, 2)))    // [N,H,T,Slots+T]
		rec.keys = append(rec.keys, StopGradient(rowNorm(lay.real(kPost, 2)))) // [N,H,T]
		rec.values = append(rec.values, StopGradient(rowNorm(lay.real(v, 2)))) // [N,H,T]
	}
	// Columns without a value vector (the op's sink logit, a K-bias slot with
	// v* = 0) take part in the normalisation but not in the mix.
	drop := m.opSpec.Slots
	if bp.kStar != nil && mixV == v {
		drop++
	}
	if drop > 0 {
		w = SliceAxis(w, 3, AxisRange(drop, w.Shape().Dim(3)))
	}
	// o[b,h,t,:] = sum_s w[b,h,t,s] v[b,h,s,:]
	o := m.fast.attnMix(w, mixV) // [B,H,T,dh]
	if m.cfg.Bias.Kind == "v" {
		o = Add(o, Reshape(bp.vStar.NodeValue(g), 1, bp.vStar.Shape().Dim(0), 1, dh))
	}
	o = TransposeAllAxes(o, 0, 2, 1, 3) // [B,T,H,dh]
	if bp.wg != nil {
		gate := Sigmoid(m.fast.dense(x, bp.wg.NodeValue(g), nil, compute.DenseLayoutInputOutputs)) // [B,T,H] or [B,T,H*dh]
		if m.cfg.Attention.Gate == "head" {
			gate = Reshape(gate, B, T, H, 1)
		} else {
			gate = Reshape(gate, B, T, H, dh)
		}
		o = Mul(o, gate)
	}
	if m.cfg.HeadCombine == "sum" {
		o = ReduceSum(o, 2) // [B,T,dh]
	} else {
		o = Reshape(o, B, T, H*dh)
	}
	return withBias(m.fast.dense(o, bp.wo.NodeValue(g), nil, compute.DenseLayoutInputOutputs), bp.bo) // [B,T,D]
}

// withBias adds a linear map's bias (linear_bias), if it has one. It is
// added after dense, so dense keeps its fast gradient.
func withBias(y *Node, b *gmodel.Variable) *Node {
	if b == nil {
		return y
	}
	return Add(y, ExpandLeftToRank(b.NodeValue(y.Graph()), y.Rank()))
}

// slotKey is the bias key k* as [1, H or 1, 1, dh]: the learned first d_a
// dimensions, zeros after them.
func (m *Model) slotKey(g *Graph, bp blockParams) *Node {
	ks := bp.kStar.NodeValue(g) // [Hk, da]
	hk, da := ks.Shape().Dim(0), ks.Shape().Dim(1)
	if da < m.headDim {
		ks = Concatenate([]*Node{ks, Zeros(g, shapes.Make(ks.DType(), hk, m.headDim-da))}, 1)
	}
	return Reshape(ks, 1, hk, 1, m.headDim)
}

// slotValue is the slot value v* as [1, H or 1, 1, dh], or nil when it is zero.
func (m *Model) slotValue(g *Graph, bp blockParams) *Node {
	b := m.cfg.Bias
	dh := m.headDim
	if b.Kind == "kv" {
		return Reshape(bp.vStar.NodeValue(g), 1, bp.vStar.Shape().Dim(0), 1, dh)
	}
	if vals := fixedSlotValue(b, dh); vals != nil {
		return Reshape(Const(g, vals), 1, 1, 1, dh)
	}
	return nil
}

// fixedSlotValue is the fixed v* of bias k: m·e1, or m/sqrt(dh) in every
// dimension; nil for zero.
func fixedSlotValue(b config.Bias, dh int) []float32 {
	if b.Kind != "k" || b.M == 0 {
		return nil
	}
	vals := make([]float32, dh)
	switch b.Value {
	case "e1":
		vals[0] = float32(b.M)
	case "uniform":
		for i := range vals {
			vals[i] = float32(b.M / math.Sqrt(float64(dh)))
		}
	default:
		return nil
	}
	return vals
}

// ffn is the feed-forward block: W2(act(W1 x)), or W3(act(W1 x) * W2 x) for gated kinds.
func (m *Model) ffn(g *Graph, bp blockParams, x *Node) *Node {
	w1, w2 := bp.w1.NodeValue(g), bp.w2.NodeValue(g)
	// in is x @ w1 (+ b1), for kinds whose activation is not fused with it.
	in := func() *Node { return withBias(m.fast.dense(x, w1, nil, compute.DenseLayoutInputOutputs), bp.b1) }
	// act applies a fused activation: in dense itself, without a bias.
	act := func(a activation.Type) *Node {
		if bp.b1 != nil {
			return activation.Apply(a, in())
		}
		return m.fast.dense(x, w1, nil, compute.DenseLayoutInputOutputs, a)
	}
	var h *Node
	switch m.cfg.FFN.Kind {
	case "swiglu":
		h = activation.SwiGLU(in()) // fused swish(gate)*value
	case "geglu", "reglu":
		gv := in()
		F := gv.Shape().Dim(-1) / 2
		gate, value := SliceAxis(gv, -1, AxisRange(0, F)), SliceAxis(gv, -1, AxisRange(F, 2*F))
		if m.cfg.FFN.Kind == "geglu" {
			gate = activation.Gelu(gate)
		} else {
			gate = activation.Relu(gate)
		}
		h = Mul(gate, value)
	case "relu":
		h = act(activation.TypeRelu)
	case "gelu":
		h = act(activation.TypeGelu) // exact: x·Φ(x) with erf
	case "gelu_tanh":
		h = act(activation.TypeGeluApprox) // 0.5·x·(1 + tanh(sqrt(2/π)(x + 0.044715x³)))
	case "swish":
		h = act(activation.TypeSwish)
	default:
		panic(fmt.Errorf("model: ffn %q has no graph (config/arch_kinds.go lists it)", m.cfg.FFN.Kind))
	}
	return withBias(m.fast.dense(h, w2, nil, compute.DenseLayoutOutputsInput), bp.b2)
}

// norm normalises over the last axis: RMSNorm x/sqrt(mean(x²)+eps)*w, or LayerNorm with gain and bias.
func (m *Model) norm(g *Graph, p normParams, x *Node) *Node {
	eps := m.cfg.Norm.Eps
	if m.cfg.Norm.Kind == "layernorm" {
		return nn.LayerNorm(x, []int{-1}, eps, p.gain.NodeValue(g), p.bias.NodeValue(g), nil)
	}
	return m.fast.rmsNorm(x, p.gain.NodeValue(g), eps) // with its own gradient (fastpath.go)
}

// ropeTables hold RoPE's rotate-half tables for the first r = rotary_dims
// dimensions of each head, shaped [1,1,T,r] to broadcast over [B,H,T,r]:
// rope(x) = x*cos + rotate_half(x)*sin, rotate_half(x) = concat(-x2, x1),
// i.e. dimension pairs (i, i+r/2) rotate by angle t·inv_i (Hugging Face's
// LLaMA / GPT-NeoX convention). Dimensions r.. of each head pass unrotated.
type ropeTables struct {
	cos, sinSigned []float32 // sinSigned = concat(-sin, sin) per half, so rope(x) = x*cos + concat(x2,x1)*sinSigned
	T, dh, r       int
	g              *Graph
}

func newRopeTables(g *Graph, T, dh int, m config.Model) *ropeTables {
	rd := m.RotaryDimsOrDefault()
	half := rd / 2
	inv := ropeInvFreq(m.Position, rd)
	rt := &ropeTables{cos: make([]float32, T*rd), sinSigned: make([]float32, T*rd), T: T, dh: dh, r: rd, g: g}
	for t := 0; t < T; t++ {
		for i := 0; i < half; i++ {
			ang := float64(float32(t) * inv[i]) // float32 like torch_ref.py
			c, s := float32(math.Cos(ang)), float32(math.Sin(ang))
			rt.cos[t*rd+i], rt.cos[t*rd+half+i] = c, c
			rt.sinSigned[t*rd+i], rt.sinSigned[t*rd+half+i] = -s, s
		}
	}
	return rt
}

// ropeInvFreq are the inverse frequencies inv_i = base^(-2i/r), i < r/2, in
// float32 like torch_ref.py, scaled as Hugging Face's rope_scaling linear
// (inv/factor) or llama3 (_compute_llama3_parameters) prescribes.
func ropeInvFreq(p config.Position, rd int) []float32 {
	out := make([]float32, rd/2)
	for i := range out {
		inv := 1.0 / math.Pow(p.Base, float64(2*i)/float64(rd))
		switch p.Scaling {
		case "linear":
			inv /= p.Factor
		case "llama3":
			lowWavelen := float64(p.OriginalContext) / p.LowFreqFactor
			highWavelen := float64(p.OriginalContext) / p.HighFreqFactor
			wavelen := 2 * math.Pi / inv
			switch {
			case wavelen > lowWavelen: // low frequency: scaled
				inv /= p.Factor
			case wavelen >= highWavelen: // medium: blended
				smooth := (float64(p.OriginalContext)/wavelen - p.LowFreqFactor) / (p.HighFreqFactor - p.LowFreqFactor)
				inv = (1-smooth)*inv/p.Factor + smooth*inv
			}
		}
		out[i] = float32(inv)
	}
	return out
}

// apply rotates x [B,H,T,dh]; scale multiplies the result (folded into the
// tables, and applied to the unrotated dimensions too).
func (r *ropeTables) apply(x *Node, scale float64) *Node {
	if r.r == r.dh {
		return r.rotate(x, scale)
	}
	rot := r.rotate(SliceAxis(x, -1, AxisRange(0, r.r)), scale)
	pass := SliceAxis(x, -1, AxisRange(r.r, r.dh))
	if scale != 1 {
		pass = MulScalar(pass, scale)
	}
	return Concatenate([]*Node{rot, pass}, -1)
}

// rotate applies the tables to x [B,H,T,r].
func (r *ropeTables) rotate(x *Node, scale float64) *Node {
	cos, sin := r.cos, r.sinSigned
	if scale != 1 {
		cos, sin = scaled(cos, scale), scaled(sin, scale)
	}
	cosN := Reshape(Const(r.g, cos), 1, 1, r.T, r.r)
	sinN := Reshape(Const(r.g, sin), 1, 1, r.T, r.r)
	// concat(x2, x1) as a Reverse of the two halves: one block copy, whose
	// gradient is again a Reverse (slices and concat would add pads in the backward pass).
	dims := x.Shape().Dimensions
	halves := append(append([]int(nil), dims[:len(dims)-1]...), 2, r.r/2)
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

// crossEntropy is the mean next-token cross-entropy of logits [B,T,V] against
// targets [B,T]. With skip > 0 the first skip positions (predictions) do not
// count: the mean is over the others (prefix LM).
func crossEntropy(logits, targets *Node, skip int) *Node {
	V := logits.Shape().Dim(-1)
	logp := LogSoftmax(logits, -1)
	onehot := OneHot(targets, V, logits.DType())
	nll := Neg(ReduceSum(Mul(logp, onehot), -1)) // [B,T]
	if skip <= 0 {
		return ReduceAllMean(nll)
	}
	B, T := nll.Shape().Dim(0), nll.Shape().Dim(1)
	if skip >= T {
		panic(fmt.Errorf("model: the prefix LM loss skips %d of %d positions: none is left", skip, T))
	}
	weights := make([]float32, T)
	for t := skip; t < T; t++ {
		weights[t] = 1
	}
	w := Reshape(Const(nll.Graph(), weights), 1, T)
	return DivScalar(ReduceAllSum(Mul(nll, w)), float64(B*(T-skip)))
}

// rowNorm is the L2 norm over the last axis, which is dropped.
func rowNorm(x *Node) *Node { return Sqrt(ReduceSum(Square(x), -1)) }
