package model

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	gmodel "github.com/gomlx/gomlx/ml/model"

	"github.com/sinkrun/sinkrun/config"
)

// The graph functions of the attention catalogue (config/arch_attention.go):
// how query-key scores become the weights that mix the values. An op's name,
// arguments, rules, proxy normalisation, slots and parameters are its
// catalogue entry's; here is only its graph, under the same name
// (TestEveryCatalogueEntryHasAGraph checks that each entry has one).
//
// An op sees the scaled scores q·k/sqrt(d_h) of every head (plus the ALiBi or
// relative-position bias, when configured) and the mask, and returns weights of
// the same shape, or with the entry's Slots extra leading columns (a learned
// sink logit). The model creates the entry's LayerParams per layer with its
// seeded initialiser and passes them in OpInput.Params. Linear attention has
// a feature map (Features) that the model applies to q and k before the
// scores. Slot columns of the model itself (key biases, the sink token)
// arrive as ordinary visible columns of Scores: ops need not know them.

// OpInput is what an attention op receives for one layer.
type OpInput struct {
	// Scores are the scaled query-key products q·k/sqrt(d_h), shape [B,H,T,S]
	// (rows = queries; S counts the model's slot column, if any, then the keys).
	// Masked entries are garbage: use a mask.
	Scores *Node
	// Allowed is a bool [1,1,T,S] mask, true where key s is visible to query t.
	Allowed *Node
	// NegMask is a float [1,1,T,S] additive mask: 0 where allowed, a large
	// negative number elsewhere (for softmax-like ops).
	NegMask *Node
	// Attn is the run's attention config (op name, Z, and op arguments).
	Attn config.Attention
	// Layer is the 0-based layer index; Scope is the layer's variable scope.
	Layer int
	Scope *gmodel.Scope
	// Params holds the values of the op's parameters (the catalogue entry's
	// LayerParams) for this layer, by their names after the layer's prefix.
	Params map[string]*Node
	// fast are the model's fast-path switches.
	fast fastSwitches
}

// attentionGraph is the graph part of one catalogue entry.
type attentionGraph struct {
	// Weights computes the attention weights [B,H,T,Slots+S] from the scores.
	// The weights must be 0 where keys are masked.
	Weights func(in OpInput) *Node
	// Features (optional) is a kernel feature map phi, applied to the
	// post-RoPE, unscaled q and k [B,H,T,d_h]; the scores are then
	// phi(q)·phi(k)/sqrt(d_h).
	Features func(in OpInput, x *Node) *Node
}

// negBig is the additive mask value: exp(negBig - max) underflows to exactly 0
// in float32, without the inf-inf NaN risks of -Inf.
const negBig = -1e9

var attentionGraphs = map[string]attentionGraph{
	// softmax: the standard op, rows sum to 1 over visible keys.
	"softmax": {
		Weights: func(in OpInput) *Node {
			return in.softmax(Add(in.Scores, in.NegMask))
		},
	},
	// scaled_softmax: alpha·softmax, so every row sums to alpha (the paper's
	// softmax mass scale). Proxy (rows renormalised) unless alpha is 1.
	"scaled_softmax": {
		Weights: func(in OpInput) *Node {
			w := in.softmax(Add(in.Scores, in.NegMask))
			if in.Attn.Alpha != 1 {
				w = MulScalar(w, in.Attn.Alpha)
			}
			return w
		},
	},
	// sigmoid: sigmoid(q·k/sqrt(d_h)) per entry, masked to 0 above the diagonal.
	// Z=one keeps the raw values (the paper's Z=1), Z=sum divides each row by
	// its sum + 1e-8 (rows then sum to ~1).
	"sigmoid": {
		Weights: func(in OpInput) *Node {
			return normalizeZ(in, Where(in.Allowed, Sigmoid(in.Scores), ZerosLike(in.Scores)))
		},
	},
	// elu: the elu+1 similarity elu(q·k/sqrt(d_h)) + 1 per entry, with Z=one
	// or Z=sum as sigmoid.
	"elu": {
		Weights: func(in OpInput) *Node {
			return normalizeZ(in, Where(in.Allowed, eluPlusOne(in.Scores), ZerosLike(in.Scores)))
		},
	},
	// linear: kernel (linear) attention, weights phi(q_t)·phi(k_s)/sqrt(d_h) on
	// visible keys, computed as a map (the probe needs it). Z=sum divides each
	// row by its sum + 1e-8 for the elu kernel, by max(|sum|, 1) for identity
	// and mlp, whose weights can be negative (as the paper's code).
	"linear": {
		Features: func(in OpInput, x *Node) *Node {
			switch in.Attn.Kernel {
			case "elu":
				return eluPlusOne(x)
			case "mlp":
				h := activation.Relu(DotGeneral(x, []int{3}, nil, in.Params["kernel_w1"], []int{0}, nil))
				return DotGeneral(h, []int{3}, nil, in.Params["kernel_w2"], []int{0}, nil)
			}
			return x // identity
		},
		Weights: func(in OpInput) *Node {
			w := Where(in.Allowed, in.Scores, ZerosLike(in.Scores))
			if in.Attn.Z != "sum" {
				return w
			}
			sum := ReduceAndKeep(w, ReduceSum, -1)
			if in.Attn.Kernel == "elu" {
				return Div(w, AddScalar(sum, 1e-8))
			}
			return Div(w, MaxScalar(Abs(sum), 1.0))
		},
	},
	// softmax1: the off-by-one softmax exp(s_j) / (1 + sum_visible exp(s)),
	// i.e. softmax with an extra zero logit whose weight is dropped; rows sum
	// to less than 1 (proxy).
	"softmax1": {
		Weights: func(in OpInput) *Node {
			w := in.softmax(withLeadingColumn(Add(in.Scores, in.NegMask), nil))
			S := in.Scores.Shape().Dim(-1)
			return SliceAxis(w, -1, AxisRange(1, S+1))
		},
	},
	// softpick: relu(exp(s_j) - 1) / (sum_visible |exp(s) - 1| + 1e-8), computed
	// with the row maximum m = max(max_visible s, 0) factored out:
	// relu(e^(s-m) - e^-m) / (sum |e^(s-m) - e^-m| + 1e-8·e^-m). Rows sum to at
	// most 1 and may be all zero (proxy).
	"softpick": {
		Weights: func(in OpInput) *Node {
			x := Add(in.Scores, in.NegMask) // masked entries -> -1e9: exp gives exactly 0
			m := StopGradient(MaxScalar(ReduceAndKeep(x, ReduceMax, -1), 0.0))
			em := Exp(Neg(m))
			e := Where(in.Allowed, Sub(Exp(Sub(x, m)), em), ZerosLike(x))
			den := Add(ReduceAndKeep(Abs(e), ReduceSum, -1), MulScalar(em, 1e-8))
			return Div(activation.Relu(e), den)
		},
	},
	// sink_logit: softmax over [b_h, s_1..s_T] with a learned per-head logit
	// b_h (initialised to 0, i.e. softmax1 at the start) whose column has no
	// value vector. Its weight is reported as slot column 0; rows, slot
	// included, sum to 1.
	"sink_logit": {
		Weights: func(in OpInput) *Node {
			H := in.Scores.Shape().Dim(1)
			b := Reshape(in.Params["sink_logit"], 1, H, 1, 1)
			return in.softmax(withLeadingColumn(Add(in.Scores, in.NegMask), b))
		},
	},
}

// normalizeZ divides each row by its sum + 1e-8 when Z=sum.
func normalizeZ(in OpInput, w *Node) *Node {
	if in.Attn.Z == "sum" {
		w = Div(w, AddScalar(ReduceAndKeep(w, ReduceSum, -1), 1e-8))
	}
	return w
}

// eluPlusOne is elu(x) + 1: x + 1 for x > 0, exp(x) otherwise.
func eluPlusOne(x *Node) *Node {
	return Where(GreaterThan(x, ZerosLike(x)), AddScalar(x, 1), Exp(MinScalar(x, 0.0)))
}

// withLeadingColumn prepends one column to x [B,H,T,S]: col broadcast from
// [1,H,1,1], or zeros when col is nil.
func withLeadingColumn(x, col *Node) *Node {
	dims := x.Shape().Dimensions
	B, H, T := dims[0], dims[1], dims[2]
	if col == nil {
		col = Zeros(x.Graph(), shapes.Make(x.DType(), B, H, T, 1))
	} else {
		col = BroadcastToDims(col, B, H, T, 1)
	}
	return Concatenate([]*Node{col, x}, 3)
}

// softmax is the backend's fused softmax over the last axis with an
// analytic gradient, dx = y ⊙ (v − Σ_row v⊙y) (softmaxFast, fastpath.go).
func (in OpInput) softmax(x *Node) *Node { return in.fast.softmaxFast(x) }
