package hf

import (
	"fmt"
	"regexp"
)

// TensorSpec is an expected tensor: its name and shape. Optional tensors may
// be absent (lm_head.weight when the embeddings are tied).
type TensorSpec struct {
	Name     string
	Shape    []int
	Optional bool
}

// linkKind is how a Hugging Face tensor relates to canonical tensors.
type linkKind int

const (
	linkCopy      linkKind = iota // same layout
	linkTranspose                 // nn.Linear [out, in] <-> canonical [in, out]
	linkGPT2QKV                   // Conv1D c_attn [in, 3*D]: q | k | v blocks on the output axis
	linkNeoXQKV                   // Linear query_key_value [H*3*dh, in]: output axis ordered [H, 3, dh]
)

// hfTensor is one tensor of a family's checkpoint and the canonical tensors
// it holds: one, or q, k, v for the fused projections.
type hfTensor struct {
	TensorSpec
	kind  linkKind
	canon []string
}

// layout is a family's checkpoint layout for one Arch.
type layout struct {
	arch    Arch
	tensors []hfTensor
	// prefixes: the module prefix of the causal-LM class first (what
	// sinkrun writes), then the bare base model's.
	prefixes []string
	// unprefixed: names that never carry the prefix (lm_head).
	unprefixed map[string]bool
	// ignore: extra tensors (buffers older transformers saved) that are not
	// weights and may be present.
	ignore *regexp.Regexp
}

// Canonical tensor names. Every matrix is [in, out] (y = x @ W); see the
// package documentation.
func layerName(i int, s string) string { return fmt.Sprintf("layers.%d.%s", i, s) }

// CanonicalTensors lists a's canonical tensors, in the order Write emits
// the checkpoint's tensors.
func CanonicalTensors(a Arch) []TensorSpec {
	d, f := a.DModel, a.FFN.Width
	specs := []TensorSpec{{Name: "tok_embed", Shape: []int{a.Vocab, d}}}
	if a.Position.Kind == Learned {
		specs = append(specs, TensorSpec{Name: "pos_embed", Shape: []int{a.Position.Rows, d}})
	}
	norm := func(name string) {
		specs = append(specs, TensorSpec{Name: name + ".weight", Shape: []int{d}})
		if a.Norm.Bias {
			specs = append(specs, TensorSpec{Name: name + ".bias", Shape: []int{d}})
		}
	}
	linear := func(name string, in, out int, bias bool) {
		specs = append(specs, TensorSpec{Name: name + ".weight", Shape: []int{in, out}})
		if bias {
			specs = append(specs, TensorSpec{Name: name + ".bias", Shape: []int{out}})
		}
	}
	for i := range a.Layers {
		l := func(s string) string { return layerName(i, s) }
		norm(l("attn_norm"))
		linear(l("q"), d, a.QDim(), a.Bias.QKV)
		linear(l("k"), d, a.KVDim(), a.Bias.QKV)
		linear(l("v"), d, a.KVDim(), a.Bias.QKV)
		linear(l("o"), a.QDim(), d, a.Bias.O)
		norm(l("ffn_norm"))
		if a.FFN.Gated {
			linear(l("ffn.gate"), d, f, a.Bias.FFN)
		}
		linear(l("ffn.up"), d, f, a.Bias.FFN)
		linear(l("ffn.down"), f, d, a.Bias.FFN)
	}
	if a.FinalNorm {
		norm("final_norm")
	}
	if !a.TiedEmbeddings {
		specs = append(specs, TensorSpec{Name: "lm_head.weight", Shape: []int{d, a.Vocab}})
	}
	return specs
}

// layoutFor builds a's checkpoint layout.
func layoutFor(a Arch) *layout {
	switch a.Family {
	case GPT2:
		return gpt2Layout(a)
	case GPTNeoX:
		return neoxLayout(a)
	case OPT:
		return optLayout(a)
	default:
		return llamaLayout(a)
	}
}

// builder accumulates hfTensors.
type builder struct {
	a   Arch
	out []hfTensor
}

func (b *builder) add(name string, shape []int, kind linkKind, canon ...string) {
	b.out = append(b.out, hfTensor{TensorSpec: TensorSpec{Name: name, Shape: shape}, kind: kind, canon: canon})
}

// linear adds an nn.Linear weight [out, in] (and bias) for canonical c.
func (b *builder) linear(hf, c string, in, out int, bias bool) {
	b.add(hf+".weight", []int{out, in}, linkTranspose, c+".weight")
	if bias {
		b.add(hf+".bias", []int{out}, linkCopy, c+".bias")
	}
}

// conv1d adds a GPT-2 Conv1D weight, already [in, out].
func (b *builder) conv1d(hf, c string, in, out int) {
	b.add(hf+".weight", []int{in, out}, linkCopy, c+".weight")
	b.add(hf+".bias", []int{out}, linkCopy, c+".bias")
}

func (b *builder) norm(hf, c string) {
	d := b.a.DModel
	b.add(hf+".weight", []int{d}, linkCopy, c+".weight")
	if b.a.Norm.Bias {
		b.add(hf+".bias", []int{d}, linkCopy, c+".bias")
	}
}

// lmHead adds the output projection [vocab, d]; optional when tied.
func (b *builder) lmHead(name string) {
	b.out = append(b.out, hfTensor{
		TensorSpec: TensorSpec{Name: name, Shape: []int{b.a.Vocab, b.a.DModel}, Optional: b.a.TiedEmbeddings},
		kind:       linkTranspose, canon: []string{"lm_head.weight"},
	})
}

func gpt2Layout(a Arch) *layout {
	b := &builder{a: a}
	d := a.DModel
	b.add("wte.weight", []int{a.Vocab, d}, linkCopy, "tok_embed")
	b.add("wpe.weight", []int{a.Position.Rows, d}, linkCopy, "pos_embed")
	for i := range a.Layers {
		h := fmt.Sprintf("h.%d.", i)
		l := func(s string) string { return layerName(i, s) }
		b.norm(h+"ln_1", l("attn_norm"))
		b.add(h+"attn.c_attn.weight", []int{d, 3 * d}, linkGPT2QKV, l("q.weight"), l("k.weight"), l("v.weight"))
		b.add(h+"attn.c_attn.bias", []int{3 * d}, linkGPT2QKV, l("q.bias"), l("k.bias"), l("v.bias"))
		b.conv1d(h+"attn.c_proj", l("o"), d, d)
		b.norm(h+"ln_2", l("ffn_norm"))
		b.conv1d(h+"mlp.c_fc", l("ffn.up"), d, a.FFN.Width)
		b.conv1d(h+"mlp.c_proj", l("ffn.down"), a.FFN.Width, d)
	}
	b.norm("ln_f", "final_norm")
	b.lmHead("lm_head.weight")
	return &layout{arch: a, tensors: b.out, prefixes: []string{"transformer.", ""},
		unprefixed: map[string]bool{"lm_head.weight": true},
		ignore:     regexp.MustCompile(`^h\.\d+\.attn\.(bias|masked_bias)$`)}
}

func llamaLayout(a Arch) *layout {
	b := &builder{a: a}
	d, f := a.DModel, a.FFN.Width
	b.add("embed_tokens.weight", []int{a.Vocab, d}, linkCopy, "tok_embed")
	for i := range a.Layers {
		p := fmt.Sprintf("layers.%d.", i)
		l := func(s string) string { return layerName(i, s) }
		b.norm(p+"input_layernorm", l("attn_norm"))
		b.linear(p+"self_attn.q_proj", l("q"), d, a.QDim(), a.Bias.QKV)
		b.linear(p+"self_attn.k_proj", l("k"), d, a.KVDim(), a.Bias.QKV)
		b.linear(p+"self_attn.v_proj", l("v"), d, a.KVDim(), a.Bias.QKV)
		b.linear(p+"self_attn.o_proj", l("o"), a.QDim(), d, a.Bias.O)
		b.norm(p+"post_attention_layernorm", l("ffn_norm"))
		b.linear(p+"mlp.gate_proj", l("ffn.gate"), d, f, a.Bias.FFN)
		b.linear(p+"mlp.up_proj", l("ffn.up"), d, f, a.Bias.FFN)
		b.linear(p+"mlp.down_proj", l("ffn.down"), f, d, a.Bias.FFN)
	}
	b.norm("norm", "final_norm")
	b.lmHead("lm_head.weight")
	return &layout{arch: a, tensors: b.out, prefixes: []string{"model.", ""},
		unprefixed: map[string]bool{"lm_head.weight": true},
		ignore:     regexp.MustCompile(`^layers\.\d+\.self_attn\.rotary_emb\.inv_freq$`)}
}

func neoxLayout(a Arch) *layout {
	b := &builder{a: a}
	d, f := a.DModel, a.FFN.Width
	b.add("embed_in.weight", []int{a.Vocab, d}, linkCopy, "tok_embed")
	for i := range a.Layers {
		p := fmt.Sprintf("layers.%d.", i)
		l := func(s string) string { return layerName(i, s) }
		b.norm(p+"input_layernorm", l("attn_norm"))
		b.norm(p+"post_attention_layernorm", l("ffn_norm"))
		b.add(p+"attention.query_key_value.weight", []int{3 * d, d}, linkNeoXQKV, l("q.weight"), l("k.weight"), l("v.weight"))
		if a.Bias.QKV {
			b.add(p+"attention.query_key_value.bias", []int{3 * d}, linkNeoXQKV, l("q.bias"), l("k.bias"), l("v.bias"))
		}
		b.linear(p+"attention.dense", l("o"), d, d, a.Bias.O)
		b.linear(p+"mlp.dense_h_to_4h", l("ffn.up"), d, f, true)
		b.linear(p+"mlp.dense_4h_to_h", l("ffn.down"), f, d, true)
	}
	b.norm("final_layer_norm", "final_norm")
	b.lmHead("embed_out.weight")
	return &layout{arch: a, tensors: b.out, prefixes: []string{"gpt_neox.", ""},
		unprefixed: map[string]bool{"embed_out.weight": true},
		ignore:     regexp.MustCompile(`^layers\.\d+\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$`)}
}

func optLayout(a Arch) *layout {
	b := &builder{a: a}
	d, f, bias := a.DModel, a.FFN.Width, a.Bias.QKV
	b.add("embed_tokens.weight", []int{a.Vocab, d}, linkCopy, "tok_embed")
	b.add("embed_positions.weight", []int{a.Position.Rows, d}, linkCopy, "pos_embed")
	for i := range a.Layers {
		p := fmt.Sprintf("layers.%d.", i)
		l := func(s string) string { return layerName(i, s) }
		b.linear(p+"self_attn.q_proj", l("q"), d, d, bias)
		b.linear(p+"self_attn.k_proj", l("k"), d, d, bias)
		b.linear(p+"self_attn.v_proj", l("v"), d, d, bias)
		b.linear(p+"self_attn.out_proj", l("o"), d, d, bias)
		b.norm(p+"self_attn_layer_norm", l("attn_norm"))
		b.linear(p+"fc1", l("ffn.up"), d, f, bias)
		b.linear(p+"fc2", l("ffn.down"), f, d, bias)
		b.norm(p+"final_layer_norm", l("ffn_norm"))
	}
	if a.FinalNorm {
		b.norm("final_layer_norm", "final_norm")
	}
	b.lmHead("lm_head.weight")
	return &layout{arch: a, tensors: b.out, prefixes: []string{"model.decoder.", "decoder."},
		unprefixed: map[string]bool{"lm_head.weight": true},
		ignore:     regexp.MustCompile(`^$`)}
}

// ExpectedTensors lists the tensors a checkpoint of a must hold, named as
// sinkrun writes them (the causal-LM class's module prefix).
func ExpectedTensors(a Arch) ([]TensorSpec, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	l := layoutFor(a)
	out := make([]TensorSpec, len(l.tensors))
	for i, t := range l.tensors {
		out[i] = t.TensorSpec
		out[i].Name = l.fullName(l.prefixes[0], t.Name)
	}
	return out, nil
}

func (l *layout) fullName(prefix, name string) string {
	if l.unprefixed[name] {
		return name
	}
	return prefix + name
}
