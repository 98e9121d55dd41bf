package model

// Fast path of the training step on GoMLX's pure-Go backend: gradient rules
// that avoid the backend's slow transposes and needless element-wise passes,
// registered through GoMLX's public VJP registry (graph.VJPRegistration).
// docs/performance.md has the measurements behind each rule.
//
// Why. The Go backend's matmul kernels take lhs [batch..., M, K] with K
// trailing and rhs either [K, N] or [N, K]; any other axis order is first
// copied by a generic element-by-element transpose (~10 ns per element), and
// the fused Dense gradient transposes x (or dy) with a scalar loop whose
// power-of-two strides thrash the cache. A weight gradient dW = xᵀ·dy
// contracts over tokens, the leading axis of both operands, so one of them
// must be transposed: the rules below do it as a matmul with the identity,
// I·xᵀ (exact: every output is one product by 1 plus zeros), which runs on the
// SIMD matmul kernel ~3× faster than the backend's transpose.
//
// The other rules cut element-wise passes: RMSNorm's gradient in 4 full-size
// passes instead of ~9 for the autodiff of its Div/Sqrt decomposition; the
// fused softmax's analytic gradient without the zero-valued identity terms a
// custom gradient needs; and q, k, v projected by column slices of wqkv
// rather than slicing one projection (whose gradient is three zero-padded
// copies of [3,B,H,T,dh], summed).
//
// How. The methods of fastSwitches (dense, attnScores, attnMix, qkvHeads,
// rmsNorm, softmaxFast) build stock nodes (FusedDense, DotGeneral, Mul,
// FusedSoftmax) and record them in a side table of weak pointers; the rules
// enableFastPath installs for those node types (once, when New builds the
// first model) look a node up and fall back to GoMLX's stock rule for nodes
// they do not know, so graphs built elsewhere are unaffected. The
// transposing rules apply on the Go backend only (elsewhere, e.g. XLA, dense
// is plain nn.Dense and the stock rules run). Each model carries its
// switches (Model.fast): SINKRUN_FASTPATH=off switches every rule off (for
// A/B runs), and SINKRUN_FASTPATH=-dense,-attn,... individual ones.
//
// batchLoss and probeForward (below) also split the batch of the training,
// evaluation and probe graphs into two halves with independent chains, which
// the Go backend's second executor runs side by side: its element-wise ops
// (norms, RoPE, residuals, softmax gradient) run on one core each, so two
// chains keep both cores busy.

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	gmodel "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/nn"
	"github.com/gomlx/gomlx/support/exceptions"
)

// defaultFast are the fast rules New switches on: $SINKRUN_FASTPATH, read
// once. Each model keeps its own switches (Model.fast), read when its graphs
// are built.
var defaultFast = parseFastPath(os.Getenv("SINKRUN_FASTPATH"))

type fastSwitches struct{ fusedDense, attn, qkv, norm, softmax, split bool }

// parseFastPath applies $SINKRUN_FASTPATH: "off" (or "0") disables every
// rule, a comma list like "-dense,-attn" disables the named ones.
func parseFastPath(env string) fastSwitches {
	on := fastSwitches{fusedDense: true, attn: true, qkv: true, norm: true, softmax: true, split: true}
	switch env = strings.TrimSpace(env); env {
	case "", "on", "1":
		return on
	case "off", "0":
		return fastSwitches{}
	}
	for _, f := range strings.Split(env, ",") {
		switch strings.TrimPrefix(strings.TrimSpace(f), "-") {
		case "dense":
			on.fusedDense = false
		case "attn":
			on.attn = false
		case "qkv":
			on.qkv = false
		case "norm":
			on.norm = false
		case "softmax":
			on.softmax = false
		case "split":
			on.split = false
		}
	}
	return on
}

// onGoBackend reports whether g compiles for GoMLX's pure-Go backend, whose
// transposes the dense and attention rules route around.
func onGoBackend(g *Graph) bool {
	b := g.Backend()
	return b != nil && b.String() == "go"
}

// fastKind says which gradient rule a recorded node gets.
type fastKind int

const (
	fastDenseIO    fastKind = iota + 1 // FusedDense, weight [in, out]
	fastDenseOI                        // FusedDense, weight [out, in]
	fastAttnScores                     // DotGeneral q[B,H,T,d]·k[B,H,S,d] over d → [B,H,T,S]
	fastAttnMix                        // DotGeneral w[B,H,T,S]·v[B,H,S,d] over S → [B,H,T,d]
	fastRMSNorm                        // Mul x·S of rmsNorm
	fastSoftmax                        // FusedSoftmax over the last axis
)

// fastMark is what the side table records of a node: its rule, and for
// the softmax the axis it was built over.
type fastMark struct {
	kind fastKind
	axis int
}

// fastNodes maps weak node pointers to their fastMark; entries are deleted
// when the node is collected.
var fastNodes sync.Map // weak.Pointer[Node] → fastMark

func markFast(n *Node, k fastKind) *Node { return markFastAxis(n, k, -1) }

func markFastAxis(n *Node, k fastKind, axis int) *Node {
	wp := weak.Make(n)
	fastNodes.Store(wp, fastMark{k, axis})
	runtime.AddCleanup(n, func(wp weak.Pointer[Node]) { fastNodes.Delete(wp) }, wp)
	return n
}

func fastMarkOf(n *Node) fastMark {
	if k, ok := fastNodes.Load(weak.Make(n)); ok {
		return k.(fastMark)
	}
	return fastMark{}
}

func fastKindOf(n *Node) fastKind { return fastMarkOf(n).kind }

// enableFastPath installs the fast rules in GoMLX's VJP registry, once per
// process; New calls it. GoMLX v0.28.16 has no scoped registry: a node's own
// gradient (Node.customVJP) can only be set on an Identity node
// (IdentityWithCustomGradient, whose extra passes the fast softmax avoids),
// so the rules go into the global table, wrapping the stock rules. They are
// scoped by node instead: each applies only to nodes this package built and
// marked (fastNodes), and calls the stock rule for every other node, so
// other graphs of the process differentiate exactly as before.
var enableFastPath = sync.OnceFunc(func() {
	VJPRegistration[NodeTypeFusedDense] = fastDenseRule(VJPRegistration[NodeTypeFusedDense])
	VJPRegistration[NodeTypeFusedSoftmax] = fastSoftmaxRule(VJPRegistration[NodeTypeFusedSoftmax])
	VJPRegistration[NodeTypeMul] = fastMulRule(VJPRegistration[NodeTypeMul])
	VJPRegistration[NodeTypeDotGeneral] = fastDotRule(VJPRegistration[NodeTypeDotGeneral])
})

func fastDenseRule(stock VJP) VJP {
	return func(node *Node, vjps []*Node, outShape shapes.Shape) []*Node {
		switch k := fastKindOf(node); k {
		case fastDenseIO, fastDenseOI:
			return denseVJP(node, vjps[0], k)
		}
		return stock(node, vjps, outShape)
	}
}

// fastSoftmaxRule: the analytic gradient for softmaxFast's nodes, which are
// over their last axis. stock is nil in v0.28.16 (fused softmax nodes built
// by graph.Softmax carry a decomposed alternate and never reach the table):
// any other node then fails as GoMLX fails for a node type without a rule.
func fastSoftmaxRule(stock VJP) VJP {
	return func(node *Node, vjps []*Node, outShape shapes.Shape) []*Node {
		if mk := fastMarkOf(node); mk.kind == fastSoftmax && mk.axis == node.Rank()-1 {
			// y = softmax(x) over the last axis: dx = y ⊙ (v − Σ_row v⊙y).
			y, v := node, vjps[0]
			return []*Node{Mul(y, Sub(v, ReduceAndKeep(Mul(v, y), ReduceSum, -1)))}
		}
		if stock == nil {
			exceptions.Panicf("graph has node %s with type %q, for which no gradient is defined yet, cannot generate graph gradient", node, node.Type())
		}
		return stock(node, vjps, outShape)
	}
}

func fastMulRule(stock VJP) VJP {
	return func(node *Node, vjps []*Node, outShape shapes.Shape) []*Node {
		if fastKindOf(node) == fastRMSNorm {
			return rmsNormVJP(node, vjps[0])
		}
		return stock(node, vjps, outShape)
	}
}

func fastDotRule(stock VJP) VJP {
	return func(node *Node, vjps []*Node, outShape shapes.Shape) []*Node {
		switch k := fastKindOf(node); k {
		case fastAttnScores, fastAttnMix:
			return attnVJP(node, vjps[0], k)
		}
		return stock(node, vjps, outShape)
	}
}

// dense is nn.Dense; without bias and activation, and when the backend fuses
// Dense with its gradient, its gradient is denseVJP's.
func (on fastSwitches) dense(x, weight, bias *Node, layout compute.DenseLayout, act ...activation.Type) *Node {
	y := nn.Dense(x, weight, bias, layout, act...)
	if !on.fusedDense || bias != nil || len(act) > 0 || y.Type() != NodeTypeFusedDense || len(y.Inputs()) != 2 ||
		!onGoBackend(y.Graph()) {
		return y
	}
	switch layout {
	case compute.DenseLayoutInputOutputs:
		return markFast(y, fastDenseIO)
	case compute.DenseLayoutOutputsInput:
		return markFast(y, fastDenseOI)
	}
	return y
}

// denseVJP: y[...,N] = x[...,K]·W. Both products run without copies:
//
//	dx = dy·Wᵀ          (rhs [K,N] contracted on its trailing axis, or [N,K] on its leading one)
//	dW = (I·xᵀ)·dy       for W [K,N];   dW = (I·dyᵀ)·x for W [N,K]
func denseVJP(node, dy *Node, kind fastKind) []*Node {
	x, w := node.Inputs()[0], node.Inputs()[1]
	K := x.Shape().Dim(-1)
	N := dy.Shape().Dim(-1)
	M := x.Shape().Size() / K
	last := dy.Rank() - 1
	x2, dy2 := Reshape(x, M, K), Reshape(dy, M, N)
	var dx, dw *Node
	if kind == fastDenseIO { // W [K,N]
		dx = DotGeneral(dy, []int{last}, nil, w, []int{1}, nil)
		dw = DotGeneral(transposed2D(x), []int{1}, nil, dy2, []int{0}, nil) // [K,M]·[M,N]
	} else { // W [N,K]
		dx = DotGeneral(dy, []int{last}, nil, w, []int{0}, nil)
		dw = DotGeneral(transposed2D(dy), []int{1}, nil, x2, []int{0}, nil) // [N,M]·[M,K]
	}
	return []*Node{dx, dw}
}

// attnScores is q[B,H,T,d]·k[B,H,S,d] over d: the scores [B,H,T,S].
func (on fastSwitches) attnScores(q, k *Node) *Node {
	s := DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1})
	if on.attn && onGoBackend(s.Graph()) {
		markFast(s, fastAttnScores)
	}
	return s
}

// attnMix is w[B,H,T,S]·v[B,H,S,d] over S: the mixed values [B,H,T,d].
func (on fastSwitches) attnMix(w, v *Node) *Node {
	o := DotGeneral(w, []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1})
	if on.attn && onGoBackend(o.Graph()) {
		markFast(o, fastAttnMix)
	}
	return o
}

// attnVJP: every product with its contracted axis trailing on the lhs.
//
//	scores = q·kᵀ:  dq = dS·k,  dk = dSᵀ·q
//	o = w·v:        dw = do·vᵀ, dv = wᵀ·do
func attnVJP(node, v *Node, kind fastKind) []*Node {
	a, b := node.Inputs()[0], node.Inputs()[1]
	batch := []int{0, 1}
	if kind == fastAttnScores {
		q, k := a, b
		dq := DotGeneral(v, []int{3}, batch, k, []int{2}, batch)
		dk := DotGeneral(transposedLast2(v), []int{3}, batch, q, []int{2}, batch)
		return []*Node{dq, dk}
	}
	w, vv := a, b
	dw := DotGeneral(v, []int{3}, batch, vv, []int{3}, batch)
	dv := DotGeneral(transposedLast2(w), []int{3}, batch, v, []int{2}, batch)
	return []*Node{dw, dv}
}

// transposed2D is xᵀ for x [M,K] (any x reshaped to its last axis), computed
// as I_K·xᵀ on the matmul kernel, once per node: q, k and v share their input's.
func transposed2D(x *Node) *Node {
	K := x.Shape().Dim(-1)
	M := x.Shape().Size() / K
	return memoNode(x.Graph(), "T", x.Id(), func() *Node {
		return DotGeneral(identityMatrix(x.Graph(), x.DType(), K), []int{1}, nil, Reshape(x, M, K), []int{1}, nil)
	})
}

// transposedLast2 swaps the last two axes of x [B,H,T,S]: I_S·x over S gives
// [S,B,H,T], and moving the leading axis to third place copies whole rows of T.
func transposedLast2(x *Node) *Node {
	S := x.Shape().Dim(-1)
	y := DotGeneral(identityMatrix(x.Graph(), x.DType(), S), []int{1}, nil, x, []int{x.Rank() - 1}, nil)
	return TransposeAllAxes(y, 1, 2, 0, 3)
}

// identityMatrix is the n×n identity, one constant per graph and size.
func identityMatrix(g *Graph, dt dtypes.DType, n int) *Node {
	c := ConstCachedTensor(g, eyeTensor(n))
	if dt != dtypes.Float32 {
		c = ConvertDType(c, dt)
	}
	return c
}

var eyes sync.Map // int → *tensors.Tensor

func eyeTensor(n int) *tensors.Tensor {
	if t, ok := eyes.Load(n); ok {
		return t.(*tensors.Tensor)
	}
	eye := make([]float32, n*n)
	for i := 0; i < n; i++ {
		eye[i*n+i] = 1
	}
	t, _ := eyes.LoadOrStore(n, tensors.FromFlatDataAndDimensions(eye, n, n))
	return t.(*tensors.Tensor)
}

// memoKey names a node derived once per graph.
type memoKey struct {
	g    weak.Pointer[Graph]
	what string
	id   NodeId
}

var memo sync.Map // memoKey → weak.Pointer[Node]; deleted when the node is collected

// memoNode returns the node built for (g, what, id), building it on first use.
func memoNode(g *Graph, what string, id NodeId, build func() *Node) *Node {
	key := memoKey{weak.Make(g), what, id}
	if v, ok := memo.Load(key); ok {
		if n := v.(weak.Pointer[Node]).Value(); n != nil {
			return n
		}
	}
	n := build()
	memo.Store(key, weak.Make(n))
	runtime.AddCleanup(n, func(k memoKey) { memo.Delete(k) }, key)
	return n
}

// qkvHeads projects x [B,T,D] with wqkv [D, (H+2·KV)·dh] (q, k, v column
// blocks; KV = H without grouped-query attention) and its bias bqkv (nil
// without linear_bias) to q, k, v [B,H,T,dh]; with KV < H each key/value
// head serves H/KV consecutive query heads. Three projections by column
// slices of the weight rather than one and slices of its output: the
// gradient of a slice is a zero-padded copy, three of them summed, of the
// whole [3,B,H,T,dh] tensor, while the weight's slices are small.
func (on fastSwitches) qkvHeads(x, wqkv, bqkv *Node, H, KV, dh int) (q, k, v *Node) {
	B, T := x.Shape().Dim(0), x.Shape().Dim(1)
	cols := [4]int{0, H * dh, (H + KV) * dh, (H + 2*KV) * dh}
	heads := [3]int{H, KV, KV}
	var out [3]*Node
	if !on.qkv {
		qkv := on.dense(x, wqkv, nil, compute.DenseLayoutInputOutputs) // [B,T,(H+2KV)*dh]
		if bqkv != nil {
			qkv = Add(qkv, ExpandLeftToRank(bqkv, qkv.Rank()))
		}
		for i := range out {
			y := SliceAxis(qkv, 2, AxisRange(cols[i], cols[i+1]))
			out[i] = TransposeAllAxes(Reshape(y, B, T, heads[i], dh), 0, 2, 1, 3)
		}
	} else {
		for i := range out {
			w := SliceAxis(wqkv, 1, AxisRange(cols[i], cols[i+1]))
			y := on.dense(x, w, nil, compute.DenseLayoutInputOutputs) // [B,T,heads*dh]
			if bqkv != nil {
				y = Add(y, ExpandLeftToRank(SliceAxis(bqkv, 0, AxisRange(cols[i], cols[i+1])), y.Rank()))
			}
			out[i] = TransposeAllAxes(Reshape(y, B, T, heads[i], dh), 0, 2, 1, 3)
		}
	}
	return out[0], repeatKV(out[1], H), repeatKV(out[2], H)
}

// repeatKV expands key or value heads [B,KV,T,dh] to [B,H,T,dh], head h
// taking head h / (H/KV) (Hugging Face's repeat_kv).
func repeatKV(x *Node, H int) *Node {
	dims := x.Shape().Dimensions
	B, KV, T, dh := dims[0], dims[1], dims[2], dims[3]
	if KV == H {
		return x
	}
	x = BroadcastToDims(Reshape(x, B, KV, 1, T, dh), B, KV, H/KV, T, dh)
	return Reshape(x, B, H, T, dh)
}

// rmsNorm is x/sqrt(mean(x²)+eps)·gain over the last axis, computed as
// y = x·S with S = r⊗gain, r = 1/sqrt(mean(x²)+eps) (r enters S without a
// gradient), so that rmsNormVJP sees x and S as the inputs of y. Its gradient
// takes 4 full-size element-wise ops for x (stock autodiff of the
// Div/Sqrt/Square decomposition takes about twice as many).
func (on fastSwitches) rmsNorm(x, gain *Node, eps float64) *Node {
	ms := ReduceAndKeep(Mul(x, x), ReduceMean, -1)
	if !on.norm {
		return Mul(Div(x, Sqrt(AddScalar(ms, eps))), ExpandLeftToRank(gain, x.Rank()))
	}
	r := StopGradient(Rsqrt(AddScalar(ms, eps)))  // [...,1]
	S := Mul(r, ExpandLeftToRank(gain, x.Rank())) // [...,D]
	return markFast(Mul(x, S), fastRMSNorm)
}

// rmsNormVJP, with n = x·r, y = n·g, u = dy·S = r·(dy·g):
//
//	dx = r·(dn − n·mean(dn·n)) = u − x·(r²·mean(u·x)),   dS = dy·x (→ dgain = Σ dS·r)
func rmsNormVJP(node, dy *Node) []*Node {
	x, S := node.Inputs()[0], node.Inputs()[1]
	r := S.Inputs()[0] // the stopped r, [...,1]
	u := Mul(dy, S)
	w := ReduceAndKeep(Mul(u, x), ReduceMean, -1)
	dx := Sub(u, Mul(x, Mul(Mul(r, r), w)))
	return []*Node{dx, Mul(dy, x)}
}

// softmaxFast is the backend's fused softmax over the last axis with the
// analytic gradient dx = y ⊙ (v − Σ_row v⊙y) registered for it; without a
// fused softmax it is graph.Softmax. (graph.Softmax differentiates a
// decomposed copy of itself, which then also runs in the forward pass.)
func (on fastSwitches) softmaxFast(x *Node) *Node {
	if !on.softmax {
		return softmaxIdentityTrick(x)
	}
	y, fused := InternalFusedOpCaller(
		func() *Node { return BackendFusedSoftmax(x, x.Rank()-1) },
		func() *Node { return Softmax(x, -1) },
		false)
	if fused {
		markFastAxis(y, fastSoftmax, x.Rank()-1)
	}
	return y
}

// softmaxIdentityTrick is the earlier way to the same gradient, kept for A/B
// runs (SINKRUN_FASTPATH=-softmax): GoMLX attaches a custom gradient only to
// an identity, so it enters through y = y0 + (x' − sg(x')), x' = identity(x),
// a term that is exactly zero in value but costs two extra passes.
func softmaxIdentityTrick(x *Node) *Node {
	y0, _ := InternalFusedOpCaller(
		func() *Node { return BackendFusedSoftmax(StopGradient(x), x.Rank()-1) },
		func() *Node { return Softmax(StopGradient(x), -1) },
		false)
	y0 = StopGradient(y0)
	xid := IdentityWithCustomGradient(x, func(_, v *Node) *Node {
		return Mul(y0, Sub(v, ReduceAndKeep(Mul(v, y0), ReduceSum, -1)))
	})
	return Add(y0, Sub(xid, StopGradient(xid)))
}

// batchLoss is the mean next-token cross-entropy of the batch. On the Go
// backend, a batch of at least 8 rows with an even count is computed as two
// halves with independent graphs (the mean of the halves' means is the
// batch's mean: the halves are equal); the variables, and so their gradients,
// are shared.
func (m *Model) batchLoss(scope *gmodel.Scope, tokens, targets, keep *Node) *Node {
	B := tokens.Shape().Dim(0)
	if !m.fast.split || B < 8 || B%2 != 0 || !onGoBackend(tokens.Graph()) {
		return crossEntropy(m.forward(scope, tokens, keep, nil), targets, m.lossSkip())
	}
	var sum *Node
	for i := 0; i < 2; i++ {
		rows := AxisRange(i*B/2, (i+1)*B/2)
		var halfKeep *Node
		if keep != nil {
			halfKeep = SliceAxis(keep, 0, rows)
		}
		// Each half builds the layers again: a fresh visited set for scope.In.
		l := crossEntropy(m.forward(scope.ResetVisited(), SliceAxis(tokens, 0, rows), halfKeep, nil), SliceAxis(targets, 0, rows), m.lossSkip())
		if sum == nil {
			sum = l
		} else {
			sum = Add(sum, l)
		}
	}
	return MulScalar(sum, 0.5)
}

// probeForward runs the probe's forward pass and returns what it recorded.
// Like batchLoss it splits the sequences into two independent halves on the
// Go backend (at least 8, an even count) and joins each recorded tensor
// along its leading (sequence) axis.
func (m *Model) probeForward(scope *gmodel.Scope, tokens *Node) *probeRecord {
	N := tokens.Shape().Dim(0)
	if !m.fast.split || N < 8 || N%2 != 0 || !onGoBackend(tokens.Graph()) {
		rec := &probeRecord{}
		_ = m.forward(scope, tokens, nil, rec) // logits unused: pruned from the graph
		return rec
	}
	var halves [2]*probeRecord
	for i := range halves {
		halves[i] = &probeRecord{}
		_ = m.forward(scope.ResetVisited(), SliceAxis(tokens, 0, AxisRange(i*N/2, (i+1)*N/2)), nil, halves[i])
	}
	join := func(a, b []*Node) []*Node {
		out := make([]*Node, len(a))
		for i := range a {
			out[i] = Concatenate([]*Node{a[i], b[i]}, 0)
		}
		return out
	}
	a, b := halves[0], halves[1]
	return &probeRecord{attention: join(a.attention, b.attention), hidden: join(a.hidden, b.hidden),
		keys: join(a.keys, b.keys), values: join(a.values, b.values)}
}
