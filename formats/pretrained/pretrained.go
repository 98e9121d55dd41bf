// Package pretrained maps Hugging Face checkpoints (package hf) onto sinkrun
// models and back: the architecture (hf.Arch <-> config.Model) and the
// weights (hf's canonical tensors <-> the parameters of compiler/model, by
// path). It is pure Go: the compiler uses it to resolve a checkpoint's
// architecture at check time, the trainer to load weights, export to write
// them.
//
// Both directions are exact: a mapped model computes what the checkpoint's
// own implementation computes. A feature one side cannot express is an
// error that names it, never an approximation.
package pretrained

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/formats/hf"
)

// ffnKinds maps (gated, activation) to sinkrun's FFN kind.
var ffnKinds = []struct {
	gated bool
	act   hf.Act
	kind  string
}{
	{true, hf.SiLU, "swiglu"},
	{true, hf.GELU, "geglu"},
	{true, hf.ReLU, "reglu"},
	{false, hf.ReLU, "relu"},
	{false, hf.GELU, "gelu"},
	{false, hf.GELUTanh, "gelu_tanh"},
	{false, hf.SiLU, "swish"},
}

// ModelFromArch is the sinkrun model that computes what the checkpoint's
// architecture computes: softmax attention with a causal mask and every
// family feature mapped to its setting. A sliding window is not mapped:
// hf.Arch.CheckSequence refuses sequences it would change.
func ModelFromArch(a hf.Arch) (config.Model, error) {
	m := config.Default().Model
	m.Layers, m.Heads, m.DModel, m.Vocab = a.Layers, a.Heads, a.DModel, a.Vocab
	if a.HeadDim != a.DModel/a.Heads || a.DModel%a.Heads != 0 {
		m.HeadDim = a.HeadDim
	}
	if a.KVHeads != a.Heads {
		m.KVHeads = a.KVHeads
	}
	m.Tied = a.TiedEmbeddings

	kind := ""
	for _, k := range ffnKinds {
		if k.gated == a.FFN.Gated && k.act == a.FFN.Act {
			kind = k.kind
		}
	}
	if kind == "" {
		return config.Model{}, fmt.Errorf("%s: a %s feed-forward block (gated %v) has no sinkrun FFN kind", a.Family, a.FFN.Act, a.FFN.Gated)
	}
	m.FFN = config.FFN{Kind: kind, Hidden: a.FFN.Width}

	m.Norm = config.Norm{Kind: string(a.Norm.Kind), Placement: "post", Eps: a.Norm.Eps}
	if a.Norm.Pre {
		m.Norm.Placement = "pre"
	}
	// A LayerNorm without a bias is one with a zero bias (Params loads
	// zeros); sinkrun's pre-norm always ends with a final norm, post-norm never.
	if a.Norm.Pre != a.FinalNorm {
		return config.Model{}, fmt.Errorf("%s: a %s model %s a final norm, which sinkrun cannot express", a.Family,
			map[bool]string{true: "pre-norm", false: "post-norm"}[a.Norm.Pre], map[bool]string{true: "with", false: "without"}[a.FinalNorm])
	}

	switch p := a.Position; p.Kind {
	case hf.RoPE:
		m.Position = config.Position{Kind: "rope", Base: p.Base, Buckets: m.Position.Buckets, MaxDistance: m.Position.MaxDistance}
		if p.RotaryDims != a.HeadDim {
			m.Position.RotaryDims = p.RotaryDims
		}
		switch p.Scaling.Kind {
		case "":
		case "linear":
			m.Position.Scaling, m.Position.Factor = "linear", p.Scaling.Factor
		case "llama3":
			m.Position.Scaling, m.Position.Factor = "llama3", p.Scaling.Factor
			m.Position.LowFreqFactor, m.Position.HighFreqFactor = p.Scaling.LowFreqFactor, p.Scaling.HighFreqFactor
			m.Position.OriginalContext = p.Scaling.OriginalMaxPositions
		default:
			return config.Model{}, fmt.Errorf("%s: rope_scaling %q has no sinkrun setting", a.Family, p.Scaling.Kind)
		}
	case hf.Learned:
		m.Position = config.Position{Kind: "learnable", Base: m.Position.Base, Buckets: m.Position.Buckets,
			MaxDistance: m.Position.MaxDistance, Length: p.Rows, Offset: p.Offset}
	default:
		return config.Model{}, fmt.Errorf("%s: position kind %q has no sinkrun setting", a.Family, p.Kind)
	}

	if a.ParallelResidual {
		if !a.Norm.Pre {
			return config.Model{}, fmt.Errorf("%s: a parallel residual with post-norm has no sinkrun setting", a.Family)
		}
		m.Residual = "parallel"
	}
	// Biases that a checkpoint lacks but sinkrun's setting has are loaded as
	// zeros, which computes the same.
	switch b := a.Bias; {
	case b.O || b.FFN:
		m.LinearBias = "all"
	case b.QKV:
		m.LinearBias = "qkv"
	}
	return m, nil
}

// ArchFromModel is the Hugging Face architecture of a sinkrun model, in the
// first family that expresses it exactly: llama (RMSNorm, RoPE, SwiGLU, no
// biases), qwen2 (the same with q/k/v biases), gpt2 (pre-LayerNorm, learned
// positions, GELU-tanh MLP, biases everywhere, tied), gpt_neox (LayerNorm,
// RoPE, biases everywhere, untied) or opt (LayerNorm, learned positions at
// offset 2, ReLU). maxPositions is the longest sequence the model was built
// for (its training context). The error lists every reason no family fits.
func ArchFromModel(m config.Model, maxPositions int) (hf.Arch, error) {
	var reasons []string
	refuse := func(format string, args ...any) { reasons = append(reasons, fmt.Sprintf(format, args...)) }
	if m.Attention.Op != "softmax" {
		refuse("attention %s (Hugging Face models use softmax)", m.Attention.Op)
	}
	if !config.AttentionGate(m.Attention.Gate).IsZero() {
		refuse("an attention output gate")
	}
	if !m.Bias.IsZero() {
		refuse("bias %s (no Hugging Face family has attention-bias slots)", m.Bias.Kind)
	}
	if !m.Mask.IsZero() {
		refuse("mask %s (Hugging Face decoders are causal)", m.Mask.Kind)
	}
	if !m.HeadCombine.IsZero() {
		refuse("head_combine %s", m.HeadCombine)
	}
	a := hf.Arch{
		Layers: m.Layers, DModel: m.DModel, Heads: m.Heads, KVHeads: m.KVHeadsOrDefault(), HeadDim: m.HeadDimOrDefault(),
		Vocab: m.Vocab, MaxPositions: maxPositions, TiedEmbeddings: m.Tied, ParallelResidual: m.Residual == "parallel",
		BOS: -1, DType: hf.F32,
		FFN:  hf.FFN{Gated: m.FFN.Gated(), Width: m.FFN.HiddenOrDefault(m.DModel)},
		Norm: hf.Norm{Kind: hf.NormKind(m.Norm.Kind), Eps: m.Norm.Eps, Bias: m.Norm.Kind == "layernorm", Pre: m.Norm.Placement != "post"},
	}
	a.FinalNorm = a.Norm.Pre
	for _, k := range ffnKinds {
		if k.kind == m.FFN.Kind {
			a.FFN.Act = k.act
		}
	}
	if m.LinearBias.QKV() {
		a.Bias.QKV = true
	}
	if m.LinearBias.All() {
		a.Bias.O, a.Bias.FFN = true, true
	}
	switch m.Position.Kind {
	case "rope":
		a.Position = hf.Position{Kind: hf.RoPE, Base: m.Position.Base, RotaryDims: m.RotaryDimsOrDefault()}
		if !m.Position.Scaling.IsZero() {
			a.Position.Scaling = hf.RoPEScaling{Kind: string(m.Position.Scaling), Factor: m.Position.Factor,
				LowFreqFactor: m.Position.LowFreqFactor, HighFreqFactor: m.Position.HighFreqFactor,
				OriginalMaxPositions: m.Position.OriginalContext}
		}
	case "learnable":
		a.Position = hf.Position{Kind: hf.Learned, Offset: m.Position.Offset, Rows: m.Position.Length}
		a.MaxPositions = m.Position.Length - m.Position.Offset
	default:
		refuse("position %s (Hugging Face families use RoPE or learned positions)", m.Position.Kind)
	}
	if len(reasons) > 0 {
		return hf.Arch{}, fmt.Errorf("no Hugging Face architecture expresses this model: %s", strings.Join(reasons, "; "))
	}
	var tried []string
	for _, fam := range []hf.Family{hf.Llama, hf.Qwen2, hf.GPT2, hf.GPTNeoX, hf.OPT} {
		a.Family = fam
		if _, err := hf.ConfigJSON(a); err != nil {
			tried = append(tried, err.Error())
			continue
		}
		return a, nil
	}
	return hf.Arch{}, fmt.Errorf("no Hugging Face architecture expresses this model:\n  %s", strings.Join(tried, "\n  "))
}

// tensorReader reads one canonical tensor; ok is false when the checkpoint
// has none of that name (an optional bias).
type tensorReader func(name string) (data []float32, ok bool, err error)

// Weights reads sinkrun's parameters of m (which must be
// ModelFromArch(ck.Arch), its vocabulary included) from a checkpoint, one at
// a time, in sinkrun's layout (compiler/model/weights.go): the loader of
// compiler/model's NewWithWeights. Biases the checkpoint does not have are
// zeros.
func Weights(ck *hf.Checkpoint, m config.Model) func(p config.Param) ([]float32, error) {
	have := map[string]bool{}
	for _, s := range hf.CanonicalTensors(ck.Arch) {
		have[s.Name] = true
	}
	read := func(name string) ([]float32, bool, error) {
		if !have[name] {
			return nil, false, nil
		}
		t, err := ck.Read(name)
		if err != nil {
			return nil, false, err
		}
		return t.Data, true, nil
	}
	return func(p config.Param) ([]float32, error) {
		vals, err := paramValues(m, p, read)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Path, err)
		}
		if int64(len(vals)) != p.Size() {
			return nil, fmt.Errorf("%s: built %d values for shape %v", p.Path, len(vals), p.Dims)
		}
		return vals, nil
	}
}

// Params calls fn with every parameter of m read from ck (see Weights), in
// the model's creation order.
func Params(ck *hf.Checkpoint, m config.Model, fn func(path string, values []float32) error) error {
	w := Weights(ck, m)
	for _, p := range m.Params() {
		vals, err := w(p)
		if err != nil {
			return err
		}
		if err := fn(p.Path, vals); err != nil {
			return err
		}
	}
	return nil
}

// paramValues builds one sinkrun parameter from canonical tensors.
func paramValues(m config.Model, p config.Param, read tensorReader) ([]float32, error) {
	need := func(name string) ([]float32, error) {
		d, ok, err := read(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("the checkpoint has no %s", name)
		}
		return d, nil
	}
	// orZeros reads an optional tensor (a bias) of n values.
	orZeros := func(name string, n int) ([]float32, error) {
		d, ok, err := read(name)
		if err != nil || ok {
			return d, err
		}
		return make([]float32, n), nil
	}
	D, F := m.DModel, m.FFN.HiddenOrDefault(m.DModel)
	path := p.Path
	switch path {
	case "/embed":
		return need("tok_embed")
	case "/position/learnable":
		return need("pos_embed")
	case "/head":
		return need("lm_head.weight")
	case "/final_norm/gain":
		return need("final_norm.weight")
	case "/final_norm/bias":
		return orZeros("final_norm.bias", D)
	}
	var layer int
	var rest string
	if _, err := fmt.Sscanf(path, "/layer_%d/", &layer); err != nil {
		return nil, fmt.Errorf("no Hugging Face tensor maps to it")
	}
	rest = path[strings.Index(path[1:], "/")+2:]
	l := func(s string) string { return fmt.Sprintf("layers.%d.%s", layer, s) }
	switch rest {
	case "norm1/gain":
		return need(l("attn_norm.weight"))
	case "norm1/bias":
		return orZeros(l("attn_norm.bias"), D)
	case "norm2/gain":
		return need(l("ffn_norm.weight"))
	case "norm2/bias":
		return orZeros(l("ffn_norm.bias"), D)
	case "attn/wqkv":
		return concatColumns(D, need, l("q.weight"), l("k.weight"), l("v.weight"))
	case "attn/bqkv":
		qd, kvd := m.Heads*m.HeadDimOrDefault(), m.KVHeadsOrDefault()*m.HeadDimOrDefault()
		var out []float32
		for _, s := range []struct {
			name string
			n    int
		}{{"q.bias", qd}, {"k.bias", kvd}, {"v.bias", kvd}} {
			d, err := orZeros(l(s.name), s.n)
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
		}
		return out, nil
	case "attn/wo":
		return need(l("o.weight"))
	case "attn/bo":
		return orZeros(l("o.bias"), D)
	case "ffn/w1":
		if m.FFN.Gated() {
			return concatColumns(D, need, l("ffn.gate.weight"), l("ffn.up.weight"))
		}
		return need(l("ffn.up.weight"))
	case "ffn/b1":
		names := []string{l("ffn.up.bias")}
		if m.FFN.Gated() {
			names = []string{l("ffn.gate.bias"), l("ffn.up.bias")}
		}
		var out []float32
		for _, n := range names {
			d, err := orZeros(n, F)
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
		}
		return out, nil
	case "ffn/w2":
		// canonical down is [F, D] (x @ W); sinkrun stores w2 [D, F], applied transposed.
		d, err := need(l("ffn.down.weight"))
		if err != nil {
			return nil, err
		}
		return transpose(d, F, D), nil
	case "ffn/b2":
		return orZeros(l("ffn.down.bias"), D)
	}
	return nil, fmt.Errorf("no Hugging Face tensor maps to it")
}

// concatColumns joins [rows, c_i] matrices side by side.
func concatColumns(rows int, need func(string) ([]float32, error), names ...string) ([]float32, error) {
	parts := make([][]float32, len(names))
	total := 0
	for i, n := range names {
		d, err := need(n)
		if err != nil {
			return nil, err
		}
		if len(d)%rows != 0 {
			return nil, fmt.Errorf("%s: %d values do not make %d rows", n, len(d), rows)
		}
		parts[i] = d
		total += len(d) / rows
	}
	out := make([]float32, 0, rows*total)
	for r := range rows {
		for _, d := range parts {
			c := len(d) / rows
			out = append(out, d[r*c:(r+1)*c]...)
		}
	}
	return out, nil
}

// splitColumns is concatColumns' inverse: the block of width widths[k].
func splitColumns(x []float32, rows int, widths []int, k int) []float32 {
	total, off := 0, 0
	for i, w := range widths {
		if i < k {
			off += w
		}
		total += w
	}
	out := make([]float32, 0, rows*widths[k])
	for r := range rows {
		out = append(out, x[r*total+off:r*total+off+widths[k]]...)
	}
	return out
}

// transpose turns a row-major [r, c] matrix into [c, r].
func transpose(x []float32, r, c int) []float32 {
	out := make([]float32, len(x))
	for i := range r {
		for j := range c {
			out[j*r+i] = x[i*c+j]
		}
	}
	return out
}

// Source gives the canonical tensors of a sinkrun model m, exported as a,
// for hf.Write, reading sinkrun's parameters by path with param (e.g.
// compiler/model's Model.Param, or a saved checkpoint).
func Source(m config.Model, a hf.Arch, param func(path string) ([]float32, error)) hf.Source {
	shapes := map[string][]int{}
	for _, s := range hf.CanonicalTensors(a) {
		shapes[s.Name] = s.Shape
	}
	D, F := m.DModel, m.FFN.HiddenOrDefault(m.DModel)
	qd, kvd := m.Heads*m.HeadDimOrDefault(), m.KVHeadsOrDefault()*m.HeadDimOrDefault()
	return func(name string) (hf.Tensor, error) {
		shape, ok := shapes[name]
		if !ok {
			return hf.Tensor{}, fmt.Errorf("no canonical tensor %q in a %s model", name, a.Family)
		}
		data, err := canonicalValues(name, m, param, D, F, qd, kvd)
		if err != nil {
			return hf.Tensor{}, fmt.Errorf("exporting %s: %w", name, err)
		}
		return hf.Tensor{Shape: shape, Data: data}, nil
	}
}

func canonicalValues(name string, m config.Model, param func(string) ([]float32, error), D, F, qd, kvd int) ([]float32, error) {
	switch name {
	case "tok_embed":
		return param("/embed")
	case "pos_embed":
		return param("/position/learnable")
	case "lm_head.weight":
		return param("/head")
	case "final_norm.weight":
		return param("/final_norm/gain")
	case "final_norm.bias":
		return param("/final_norm/bias")
	}
	var layer int
	if _, err := fmt.Sscanf(name, "layers.%d.", &layer); err != nil {
		return nil, errors.New("no sinkrun parameter maps to it")
	}
	rest := strings.SplitN(name, ".", 3)[2]
	p := func(s string) string { return fmt.Sprintf("/layer_%d/%s", layer, s) }
	block := func(path string, rows int, widths []int, k int) ([]float32, error) {
		x, err := param(path)
		if err != nil {
			return nil, err
		}
		return splitColumns(x, rows, widths, k), nil
	}
	qkv := []int{qd, kvd, kvd}
	ffn := []int{F, F}
	gated := m.FFN.Gated()
	switch rest {
	case "attn_norm.weight":
		return param(p("norm1/gain"))
	case "attn_norm.bias":
		return param(p("norm1/bias"))
	case "ffn_norm.weight":
		return param(p("norm2/gain"))
	case "ffn_norm.bias":
		return param(p("norm2/bias"))
	case "q.weight", "k.weight", "v.weight":
		return block(p("attn/wqkv"), D, qkv, strings.Index("qkv", rest[:1]))
	case "q.bias", "k.bias", "v.bias":
		return block(p("attn/bqkv"), 1, qkv, strings.Index("qkv", rest[:1]))
	case "o.weight":
		return param(p("attn/wo"))
	case "o.bias":
		return param(p("attn/bo"))
	case "ffn.gate.weight":
		return block(p("ffn/w1"), D, ffn, 0)
	case "ffn.gate.bias":
		return block(p("ffn/b1"), 1, ffn, 0)
	case "ffn.up.weight":
		if gated {
			return block(p("ffn/w1"), D, ffn, 1)
		}
		return param(p("ffn/w1"))
	case "ffn.up.bias":
		if gated {
			return block(p("ffn/b1"), 1, ffn, 1)
		}
		return param(p("ffn/b1"))
	case "ffn.down.weight":
		w2, err := param(p("ffn/w2"))
		if err != nil {
			return nil, err
		}
		return transpose(w2, D, F), nil
	case "ffn.down.bias":
		return param(p("ffn/b2"))
	}
	return nil, errors.New("no sinkrun parameter maps to it")
}
