package config

import "fmt"

// Init is how a parameter is initialised.
type Init int

const (
	// InitNormal draws from normal(0, Std), or normal(0, init_std) when Std is 0.
	InitNormal Init = iota
	InitOnes
	InitZeros
)

// Param is one trainable parameter of a model.
type Param struct {
	// Path names the parameter in the variable store and in checkpoints,
	// e.g. "/layer_0/attn/wqkv".
	Path string
	Dims []int
	Init Init
	Std  float64 // InitNormal's standard deviation; 0 means the model's init_std
	// Matrix marks weight matrices of linear maps, which decay under
	// optimizer decay: matrices.
	Matrix bool
	// Layout says how the tensor is laid out and applied.
	Layout string
}

// Size is the number of values of the parameter.
func (p Param) Size() int64 {
	n := int64(1)
	for _, d := range p.Dims {
		n *= int64(d)
	}
	return n
}

// Params lists every trainable parameter of the model, in the order the
// model creates (and the optimiser updates) them: the token embedding, the
// parameters of the position encoding and of a sink token, each layer's
// (norm1, attention, norm2, FFN), the final norm (pre-norm placement only)
// and the output head (untied only). Shapes use d_model D, heads H, head
// width dh, FFN hidden width F and vocabulary V (model.vocab as given:
// resolve it first). Every projection is applied as x @ W with W [in, out],
// except w2 [D, F], applied as h @ w2^T.
func (m Model) Params() []Param {
	D, H, dh, V, F := m.DModel, m.Heads, m.HeadDimOrDefault(), m.Vocab, m.FFN.HiddenOrDefault(m.DModel)
	ps := []Param{{Path: "/embed", Dims: []int{V, D},
		Layout: "[vocab, d_model]: row i is token i's input embedding (and, tied, its output projection: logits = x @ embed^T)"}}
	if pk, ok := PositionKindNamed(m.Position.Kind); ok && pk.Params != nil {
		ps = append(ps, pk.Params(m)...)
	}
	bk, _ := BiasKindNamed(m.Bias.Kind)
	if bk.Params != nil {
		ps = append(ps, bk.Params(m)...)
	}
	op, _ := AttentionOpNamed(m.Attention.Op)
	ffnIn, ffnLayout := F, "[d_model, hidden]: h = act(x @ w1)"
	if m.FFN.Gated() {
		ffnIn, ffnLayout = 2*F, "[d_model, 2*hidden]: columns 0..hidden-1 are the gate W_gate, columns hidden..2*hidden-1 the value W_value; h = act(x @ W_gate) * (x @ W_value)"
	}
	woIn, woLayout := H*dh, "[heads*head_dim, d_model]: rows h*head_dim..(h+1)*head_dim-1 take head h's output"
	if m.HeadCombine == "sum" {
		woIn, woLayout = dh, "[head_dim, d_model]: applied to the sum of the heads' outputs"
	}
	KV := m.KVHeadsOrDefault()
	qkvOut := (H + 2*KV) * dh
	qkvLayout := "[d_model, 3*heads*head_dim]: column blocks q, k, v; within a block, head h is columns h*head_dim..(h+1)*head_dim-1"
	if KV != H {
		qkvLayout = "[d_model, (heads+2*kv_heads)*head_dim]: column blocks q (heads*head_dim), k and v (kv_heads*head_dim each); within a block, head h is columns h*head_dim..(h+1)*head_dim-1"
	}
	for l := 0; l < m.Layers; l++ {
		s := fmt.Sprintf("/layer_%d", l)
		ps = append(ps, m.normParams(s+"/norm1")...)
		ps = append(ps, Param{Path: s + "/attn/wqkv", Dims: []int{D, qkvOut}, Matrix: true, Layout: qkvLayout})
		if m.LinearBias.QKV() {
			ps = append(ps, Param{Path: s + "/attn/bqkv", Dims: []int{qkvOut}, Init: InitZeros, Layout: "[(heads+2*kv_heads)*head_dim]: the q, k and v biases, in wqkv's column order"})
		}
		ps = append(ps, Param{Path: s + "/attn/wo", Dims: []int{woIn, D}, Matrix: true, Layout: woLayout})
		if m.LinearBias.All() {
			ps = append(ps, Param{Path: s + "/attn/bo", Dims: []int{D}, Init: InitZeros, Layout: "[d_model]: the output projection's bias"})
		}
		switch m.Attention.Gate {
		case "head":
			ps = append(ps, Param{Path: s + "/attn/gate", Dims: []int{D, H}, Matrix: true, Layout: "[d_model, heads]: gate = sigmoid(x @ W_g), one per head"})
		case "element":
			ps = append(ps, Param{Path: s + "/attn/gate", Dims: []int{D, H * dh}, Matrix: true, Layout: "[d_model, heads*head_dim]: gate = sigmoid(x @ W_g), one per output dimension"})
		}
		if bk.LayerParams != nil {
			ps = append(ps, bk.LayerParams(m, s+"/attn")...)
		}
		if op.LayerParams != nil {
			ps = append(ps, op.LayerParams(m, s+"/attn")...)
		}
		ps = append(ps, m.normParams(s+"/norm2")...)
		ps = append(ps, Param{Path: s + "/ffn/w1", Dims: []int{D, ffnIn}, Matrix: true, Layout: ffnLayout})
		if m.LinearBias.All() {
			ps = append(ps, Param{Path: s + "/ffn/b1", Dims: []int{ffnIn}, Init: InitZeros, Layout: "[hidden] (or [2*hidden], gate then value): w1's bias"})
		}
		ps = append(ps, Param{Path: s + "/ffn/w2", Dims: []int{D, F}, Matrix: true, Layout: "[d_model, hidden], applied transposed: y = h @ w2^T"})
		if m.LinearBias.All() {
			ps = append(ps, Param{Path: s + "/ffn/b2", Dims: []int{D}, Init: InitZeros, Layout: "[d_model]: w2's bias"})
		}
	}
	if m.Norm.Placement != "post" {
		ps = append(ps, m.normParams("/final_norm")...)
	}
	if !m.Tied {
		ps = append(ps, Param{Path: "/head", Dims: []int{D, V}, Matrix: true, Layout: "[d_model, vocab]: logits = x @ head"})
	}
	return ps
}

// normParams are the gain (and, for kinds with a bias, the bias) of one norm.
func (m Model) normParams(prefix string) []Param {
	ps := []Param{{Path: prefix + "/gain", Dims: []int{m.DModel}, Init: InitOnes, Layout: "[d_model]"}}
	if k, _ := NormKindNamed(m.Norm.Kind); k.Bias {
		ps = append(ps, Param{Path: prefix + "/bias", Dims: []int{m.DModel}, Init: InitZeros, Layout: "[d_model]"})
	}
	return ps
}

// NumParams is the number of trainable parameters (the sum of Params' sizes).
func (m Model) NumParams() int64 {
	var n int64
	for _, p := range m.Params() {
		n += p.Size()
	}
	return n
}
