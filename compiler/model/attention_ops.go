package model

import (
	"fmt"
	"sort"

	. "github.com/gomlx/gomlx/core/graph"
	gmodel "github.com/gomlx/gomlx/ml/model"

	"github.com/sinkrun/sinkrun/config"
)

// The attention catalogue: how query-key scores become the weights that mix
// the values. Adding an op is one entry in `attentionOps` (and its name in the
// enum of config.Attention.Op).
//
// An op sees the scaled scores q·k/sqrt(d_h) of every head and the causal
// mask, and returns weights of the same shape. Ops with parameters (a learned
// per-head sink logit, a gate) create them under OpInput.Scope with the
// model's seeded initialiser (see Model.newParam) at build time; ops that need
// extra key/value slots (learnable K/KV bias, sink token) will additionally
// return slot weights and slot values — see the note on Slots below.

// OpInput is what an attention op receives for one layer.
type OpInput struct {
	// Scores are the scaled query-key products q·k/sqrt(d_h), shape [B,H,T,S]
	// (rows = queries). Entries above the diagonal are garbage: use a mask.
	Scores *Node
	// Allowed is a bool [1,1,T,S] mask, true where key s is visible to query t.
	Allowed *Node
	// NegMask is a float [1,1,T,S] additive mask: 0 where allowed, a large
	// negative number elsewhere (for softmax-like ops).
	NegMask *Node
	// Attn is the run's attention config (op name, Z, and future op arguments).
	Attn config.Attention
	// Layer is the 0-based layer index; Scope is the layer's variable scope,
	// for ops that own parameters.
	Layer int
	Scope *gmodel.Scope
}

// AttentionOp is one catalogue entry.
type AttentionOp struct {
	// Weights computes the attention weights [B,H,T,S] from the scores. The
	// weights must be 0 where keys are masked.
	Weights func(in OpInput) *Node
	// Proxy reports whether the rows of this op's weights need not sum to 1,
	// so sink metrics are computed on row-normalised maps (SPEC §1, Sink*).
	Proxy func(a config.Attention) bool
	// Check validates the op's arguments (nil: no arguments).
	Check func(a config.Attention) error

	// Slots (future): number of extra key/value slots placed before token 0
	// (learnable K bias, KV bias, sink token). Such an op would also provide
	// slot keys/values; the probe's attention map then gains Slots columns.
	// Not used by any op yet.
	Slots int
}

// negBig is the additive mask value: exp(negBig - max) underflows to exactly 0
// in float32, without the inf-inf NaN risks of -Inf.
const negBig = -1e9

var attentionOps = map[string]AttentionOp{
	// softmax: the standard op, rows sum to 1 over visible keys.
	"softmax": {
		Weights: func(in OpInput) *Node {
			return softmaxLastAxis(Add(in.Scores, in.NegMask))
		},
		Proxy: func(config.Attention) bool { return false },
	},
	// sigmoid: sigmoid(q·k/sqrt(d_h)) per entry, masked to 0 above the diagonal.
	// Z=one keeps the raw values (the paper's Z=1), Z=sum divides each row by
	// its sum + 1e-8 (rows then sum to ~1).
	"sigmoid": {
		Weights: func(in OpInput) *Node {
			w := Where(in.Allowed, Sigmoid(in.Scores), ZerosLike(in.Scores))
			if in.Attn.Z == "sum" {
				w = Div(w, AddScalar(ReduceAndKeep(w, ReduceSum, -1), 1e-8))
			}
			return w
		},
		Proxy: func(a config.Attention) bool { return a.Z != "sum" },
		Check: func(a config.Attention) error {
			if a.Z != "one" && a.Z != "sum" {
				return fmt.Errorf("sigmoid attention: z must be one or sum, got %q", a.Z)
			}
			return nil
		},
	},
}

// softmaxLastAxis is the backend's fused softmax over the last axis with an
// analytic gradient, dx = y ⊙ (v − Σ_row v⊙y). graph.Softmax differentiates a
// decomposed copy of the softmax instead, which then also runs in the forward
// pass of every training step.
//
// GoMLX can attach a custom gradient only to an identity, so the gradient
// enters through a term that is exactly zero in value: y = y0 + (x' − sg(x')),
// x' = identity(x) with the custom gradient; x' − sg(x') is 0 for finite x and
// passes the adjoint of y unchanged to x', whose gradient function maps it to dx.
func softmaxLastAxis(x *Node) *Node {
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

// AttentionOps lists the catalogue's op names, sorted.
func AttentionOps() []string {
	names := make([]string, 0, len(attentionOps))
	for n := range attentionOps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lookupOp returns the catalogue entry of a config, checking its arguments.
func lookupOp(a config.Attention) (AttentionOp, error) {
	op, ok := attentionOps[a.Op]
	if !ok {
		return AttentionOp{}, fmt.Errorf("unknown attention op %q (catalogue: %v)", a.Op, AttentionOps())
	}
	if op.Check != nil {
		if err := op.Check(a); err != nil {
			return AttentionOp{}, err
		}
	}
	return op, nil
}

// IsProxy reports whether an attention config's rows need not sum to 1.
func IsProxy(a config.Attention) bool {
	op, ok := attentionOps[a.Op]
	return ok && op.Proxy(a)
}
