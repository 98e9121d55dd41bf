package config

// The architecture catalogue: every kind of every architectural setting
// (attention op, FFN, norm, position, bias, mask) is described once, here:
// its name and meaning, the constructor arguments it takes, the rules it
// imposes on the other settings, its proxy normalisation and slots
// (attention), and the parameters it adds (hence counts and FLOPs).
//
// Everything that needs to know about a kind reads this catalogue: the
// schema (allowed kinds, which arguments apply to which kind, the docs of
// docs/dsl.md), Validate (the rules), Model.Params (parameter shapes, read
// by the cost estimate and by the model builder), and the measurement (the
// proxy normalisation). The graph functions live in compiler/model, keyed
// by the same names, with a test that every entry has one.
//
// An entry's Args lists the constructor arguments (keys of the setting's
// struct) that apply to it; an argument no entry lists applies to every
// kind. A kind field opts in with the struct tag `catalogue:"NAME"`.

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is the part every catalogue entry has.
type Kind struct {
	Name string
	Doc  string   // what it computes, for docs/dsl.md
	Args []string // constructor arguments that apply to this kind only
}

// ProxyNorm is how an attention op's maps are row-normalised before sink
// scores (docs/metrics.md#proxy): ProxyNone when rows already sum to 1 (slot
// columns included).
type ProxyNorm string

const (
	ProxyNone   ProxyNorm = ""
	ProxySum    ProxyNorm = "sum"     // s_ij / (sum_j s_ij + 1e-8)
	ProxyAbsSum ProxyNorm = "abs_sum" // |s_ij| / sum_j |s_ij|: weights that can be negative
)

// AttentionOp is one attention operation: how the scaled query-key scores
// become the weights that mix the values.
type AttentionOp struct {
	Kind
	// Proxy is the row normalisation of its maps for sink scores.
	Proxy func(a Attention) ProxyNorm
	// Slots is the number of value-less columns the op places before token 1
	// in every attention row (the learned sink logit).
	Slots int
	// LayerParams (optional) are the op's parameters in one layer, whose
	// paths start with prefix ("/layer_0/attn").
	LayerParams func(m Model, prefix string) []Param
	// Rules (optional) are the op's constraints on the other settings.
	Rules func(m Model) []Violation
}

// FFNKind is one feed-forward block.
type FFNKind struct {
	Kind
	// Gated kinds have two input projections (gate and value).
	Gated bool
}

// NormKind is one normalisation function.
type NormKind struct {
	Kind
	// Bias: the norm has a learned bias besides its gain.
	Bias bool
}

// PositionKind is one positional encoding.
type PositionKind struct {
	Kind
	// Params (optional) are its parameters, shared by the layers.
	Params func(m Model) []Param
	Rules  func(m Model) []Violation
}

// BiasKind is one kind of learned attention bias.
type BiasKind struct {
	Kind
	// Slots is the number of columns it places before token 1 in every
	// attention row.
	Slots       int
	Params      func(m Model) []Param                // model-level
	LayerParams func(m Model, prefix string) []Param // per layer, prefix "/layer_0/attn"
	Rules       func(m Model) []Violation
}

// MaskKind is one attention mask.
type MaskKind struct {
	Kind
	Rules func(m Model) []Violation
}

// AttentionOps lists the attention catalogue, in documentation order (a
// copy: the catalogue itself does not change).
func AttentionOps() []AttentionOp { return slices.Clone(attentionOps) }

// FFNKinds, NormKinds, PositionKinds, BiasKinds and MaskKinds list the
// other catalogues (copies).
func FFNKinds() []FFNKind           { return slices.Clone(ffnKinds) }
func NormKinds() []NormKind         { return slices.Clone(normKinds) }
func PositionKinds() []PositionKind { return slices.Clone(positionKinds) }
func BiasKinds() []BiasKind         { return slices.Clone(biasKinds) }
func MaskKinds() []MaskKind         { return slices.Clone(maskKinds) }

// lookup finds the entry named name; ok is false for an unknown name.
func lookup[E any](entries []E, kind func(*E) *Kind, name string) (E, bool) {
	for i := range entries {
		if kind(&entries[i]).Name == name {
			return entries[i], true
		}
	}
	var zero E
	return zero, false
}

// AttentionOpNamed returns the catalogue entry of an attention op.
func AttentionOpNamed(name string) (AttentionOp, bool) {
	return lookup(attentionOps, func(e *AttentionOp) *Kind { return &e.Kind }, name)
}

// FFNKindNamed returns the catalogue entry of an FFN kind.
func FFNKindNamed(name string) (FFNKind, bool) {
	return lookup(ffnKinds, func(e *FFNKind) *Kind { return &e.Kind }, name)
}

// NormKindNamed returns the catalogue entry of a norm kind.
func NormKindNamed(name string) (NormKind, bool) {
	return lookup(normKinds, func(e *NormKind) *Kind { return &e.Kind }, name)
}

// PositionKindNamed returns the catalogue entry of a position kind.
func PositionKindNamed(name string) (PositionKind, bool) {
	return lookup(positionKinds, func(e *PositionKind) *Kind { return &e.Kind }, name)
}

// BiasKindNamed returns the catalogue entry of a bias kind ("" is none).
func BiasKindNamed(name string) (BiasKind, bool) {
	if name == "" {
		name = "none"
	}
	return lookup(biasKinds, func(e *BiasKind) *Kind { return &e.Kind }, name)
}

// MaskKindNamed returns the catalogue entry of a mask kind ("" is causal).
func MaskKindNamed(name string) (MaskKind, bool) {
	if name == "" {
		name = "causal"
	}
	return lookup(maskKinds, func(e *MaskKind) *Kind { return &e.Kind }, name)
}

// catalogueKinds lists the Kind parts of the catalogue a schema tag names.
func catalogueKinds(name string) []Kind {
	var out []Kind
	add := func(k Kind) { out = append(out, k) }
	switch name {
	case "attention":
		for _, e := range attentionOps {
			add(e.Kind)
		}
	case "ffn":
		for _, e := range ffnKinds {
			add(e.Kind)
		}
	case "norm":
		for _, e := range normKinds {
			add(e.Kind)
		}
	case "position":
		for _, e := range positionKinds {
			add(e.Kind)
		}
	case "bias":
		for _, e := range biasKinds {
			add(e.Kind)
		}
	case "mask":
		for _, e := range maskKinds {
			add(e.Kind)
		}
	default:
		panic(fmt.Sprintf("config: unknown catalogue %q in a struct tag", name)) // programming error in this package
	}
	return out
}

// catalogueDoc is a kind field's documentation: its own text, then each
// kind's ("softmax: the standard op; sigmoid: ...").
func catalogueDoc(doc string, kinds []Kind) string {
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = k.Name + ": " + k.Doc
	}
	if doc != "" {
		doc += ". "
	}
	return doc + strings.Join(parts, "; ")
}

// catalogueArgKinds returns, per argument key, the kinds that take it.
func catalogueArgKinds(kinds []Kind) map[string][]string {
	out := map[string][]string{}
	for _, k := range kinds {
		for _, a := range k.Args {
			out[a] = append(out[a], k.Name)
		}
	}
	return out
}
