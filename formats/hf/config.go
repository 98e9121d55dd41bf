package hf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ConfigFile is the name of a checkpoint's architecture file.
const ConfigFile = "config.json"

// ReadConfig parses dir/config.json into an Arch. Fields a family's
// transformers config class defaults are defaulted the same way, except the
// sizes (layers, width, heads, vocabulary), which must be present. A
// model_type or setting sinkrun does not implement is an error naming the
// file and the field.
func ReadConfig(dir string) (Arch, error) {
	path := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Arch{}, err
	}
	return ParseConfig(path, data)
}

// ParseConfig parses config.json content; path names it in errors.
func ParseConfig(path string, data []byte) (Arch, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return Arch{}, fmt.Errorf("%s: not a JSON object: %w", path, err)
	}
	c := &configReader{path: path, m: m}
	mt := c.str("model_type", "")
	if mt == "" {
		return Arch{}, fmt.Errorf("%s: field \"model_type\" missing (supported: %s)", path, familyList())
	}
	fam := Family(mt)
	spec, ok := families[fam]
	if !ok {
		return Arch{}, fmt.Errorf("%s: field \"model_type\": unsupported model type %q (supported: %s)", path, mt, familyList())
	}
	a := spec.parse(c)
	if c.err != nil {
		return Arch{}, c.err
	}
	a.Family = fam
	a.BOS = c.intOr(-1, "bos_token_id")
	a.EOS = c.intList("eos_token_id")
	dt := c.str("torch_dtype", c.str("dtype", "float32"))
	if a.DType = torchDTypes[dt]; a.DType == "" {
		c.fail("torch_dtype", "unsupported dtype %q (supported: float32, float16, bfloat16, float64)", dt)
	}
	if c.err != nil {
		return Arch{}, c.err
	}
	if err := a.check(); err != nil {
		return Arch{}, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// check validates an Arch and that its family can express it.
func (a Arch) check() error {
	spec, ok := families[a.Family]
	if !ok {
		return fmt.Errorf("unsupported family %q (supported: %s)", a.Family, familyList())
	}
	if err := a.validate(); err != nil {
		return err
	}
	if err := spec.expressible(a); err != nil {
		return fmt.Errorf("%s cannot express this model: %w", a.Family, err)
	}
	return nil
}

// ConfigJSON renders the config.json that transformers loads for a.
// An Arch its family cannot express is refused with the reason.
func ConfigJSON(a Arch) ([]byte, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	m := families[a.Family].config(a)
	m["model_type"] = string(a.Family)
	m["architectures"] = []string{families[a.Family].class}
	m["tie_word_embeddings"] = a.TiedEmbeddings
	if a.BOS >= 0 {
		m["bos_token_id"] = a.BOS
	}
	switch len(a.EOS) {
	case 0:
	case 1:
		m["eos_token_id"] = a.EOS[0]
	default:
		m["eos_token_id"] = a.EOS
	}
	dt := a.DType
	if dt == "" {
		dt = F32
	}
	m["torch_dtype"] = dt.torchName()
	m["use_cache"] = true
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// torchDTypes maps config.json's torch_dtype to the dtype it names.
var torchDTypes = map[string]DType{"float32": F32, "float16": F16, "bfloat16": BF16, "float64": F64}

// familySpec is one family's config.json dialect.
type familySpec struct {
	class       string // transformers class for "architectures"
	parse       func(c *configReader) Arch
	config      func(a Arch) map[string]any
	expressible func(a Arch) error
}

var families = map[Family]familySpec{
	GPT2:    {"GPT2LMHeadModel", parseGPT2, configGPT2, expressibleGPT2},
	Llama:   {"LlamaForCausalLM", parseLlamaLike(Llama), configLlamaLike(Llama), expressibleLlamaLike(Llama)},
	Mistral: {"MistralForCausalLM", parseLlamaLike(Mistral), configLlamaLike(Mistral), expressibleLlamaLike(Mistral)},
	Qwen2:   {"Qwen2ForCausalLM", parseLlamaLike(Qwen2), configLlamaLike(Qwen2), expressibleLlamaLike(Qwen2)},
	GPTNeoX: {"GPTNeoXForCausalLM", parseNeoX, configNeoX, expressibleNeoX},
	OPT:     {"OPTForCausalLM", parseOPT, configOPT, expressibleOPT},
}

// hfActivations maps config.json activation names to Act.
var hfActivations = map[string]Act{
	"gelu": GELU, "gelu_new": GELUTanh, "gelu_pytorch_tanh": GELUTanh, "gelu_fast": GELUTanh,
	"relu": ReLU, "silu": SiLU, "swish": SiLU,
}

func (c *configReader) act(def string, keys ...string) Act {
	name := c.str(keys[0], def)
	a, ok := hfActivations[name]
	if !ok {
		c.fail(keys[0], "unsupported activation %q (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu)", name)
	}
	return a
}

func hfActName(a Act) string {
	if a == GELUTanh {
		return "gelu_new"
	}
	return string(a)
}

// ---- GPT-2 ----

func parseGPT2(c *configReader) Arch {
	d := c.intReq("n_embd")
	heads := c.intReq("n_head")
	npos := c.intReq("n_positions")
	if c.boolOr(false, "scale_attn_by_inverse_layer_idx") {
		c.fail("scale_attn_by_inverse_layer_idx", "true is not supported (attention scaled by 1/layer)")
	}
	if !c.boolOr(true, "scale_attn_weights") {
		c.fail("scale_attn_weights", "false is not supported (unscaled attention scores)")
	}
	if c.boolOr(false, "add_cross_attention") {
		c.fail("add_cross_attention", "cross-attention is not supported (decoder-only models)")
	}
	a := Arch{
		Layers: c.intReq("n_layer"), DModel: d, Heads: heads, KVHeads: heads, Vocab: c.intReq("vocab_size"),
		MaxPositions:   npos,
		FFN:            FFN{Act: c.act("gelu_new", "activation_function"), Width: c.intOr(4*d, "n_inner")},
		Norm:           Norm{Kind: LayerNorm, Eps: c.floatOr(1e-5, "layer_norm_epsilon"), Bias: true, Pre: true},
		Position:       Position{Kind: Learned, Rows: npos},
		Bias:           Biases{QKV: true, O: true, FFN: true},
		TiedEmbeddings: c.boolOr(true, "tie_word_embeddings"),
		FinalNorm:      true,
	}
	if heads > 0 {
		a.HeadDim = d / heads
		if d%heads != 0 {
			c.fail("n_head", "n_embd %d is not a multiple of n_head %d", d, heads)
		}
	}
	return a
}

func configGPT2(a Arch) map[string]any {
	return map[string]any{
		"n_embd": a.DModel, "n_head": a.Heads, "n_layer": a.Layers, "n_positions": a.MaxPositions,
		"n_ctx": a.MaxPositions, "n_inner": a.FFN.Width, "vocab_size": a.Vocab,
		"activation_function": hfActName(a.FFN.Act), "layer_norm_epsilon": jsonFloat(a.Norm.Eps),
		"scale_attn_weights": true, "resid_pdrop": jsonFloat(0), "embd_pdrop": jsonFloat(0), "attn_pdrop": jsonFloat(0),
		"initializer_range": jsonFloat(0.02),
	}
}

func expressibleGPT2(a Arch) error {
	return firstErr(
		need(a.Position.Kind == Learned && a.Position.Offset == 0 && a.Position.Rows == a.MaxPositions, "learned positions without offset, one row per position"),
		need(a.Norm == Norm{Kind: LayerNorm, Eps: a.Norm.Eps, Bias: true, Pre: true} && a.FinalNorm, "pre-LayerNorm with bias and a final norm"),
		need(!a.FFN.Gated, "an ungated FFN"),
		need(a.Bias == Biases{true, true, true}, "biases on every linear layer"),
		need(a.KVHeads == a.Heads, "as many kv heads as heads"),
		need(a.HeadDim*a.Heads == a.DModel, "head_dim * heads = d_model"),
		need(!a.ParallelResidual, "a sequential residual"),
		need(a.SlidingWindow == 0, "no sliding window"),
	)
}

// ---- LLaMA, Mistral, Qwen2 ----

func parseLlamaLike(fam Family) func(c *configReader) Arch {
	return func(c *configReader) Arch {
		d := c.intReq("hidden_size")
		heads := c.intReq("num_attention_heads")
		kv := c.intOr(heads, "num_key_value_heads")
		if fam == Mistral && !c.has("num_key_value_heads") {
			kv = 8 // MistralConfig's default
		}
		headDim := 0
		if heads > 0 {
			headDim = c.intOr(d/heads, "head_dim")
		}
		if f := c.floatOr(1, "partial_rotary_factor"); f != 1 {
			c.fail("partial_rotary_factor", "%g is not supported for %s (RoPE on the whole head only)", f, fam)
		}
		a := Arch{
			Layers: c.intReq("num_hidden_layers"), DModel: d, Heads: heads, KVHeads: kv, HeadDim: headDim,
			Vocab:          c.intReq("vocab_size"),
			MaxPositions:   c.intReq("max_position_embeddings"),
			FFN:            FFN{Gated: true, Act: c.act("silu", "hidden_act"), Width: c.intReq("intermediate_size")},
			Norm:           Norm{Kind: RMSNorm, Eps: c.floatOr(1e-6, "rms_norm_eps"), Pre: true},
			Position:       c.rope(headDim),
			TiedEmbeddings: c.boolOr(false, "tie_word_embeddings"),
			FinalNorm:      true,
		}
		switch fam {
		case Llama:
			ab := c.boolOr(false, "attention_bias")
			a.Bias = Biases{QKV: ab, O: ab, FFN: c.boolOr(false, "mlp_bias")}
		case Qwen2:
			a.Bias = Biases{QKV: true}
			if c.boolOr(false, "use_sliding_window") {
				a.SlidingWindow = c.intOr(4096, "sliding_window")
			}
		case Mistral:
			a.SlidingWindow = c.intOr(0, "sliding_window") // null: none
		}
		return a
	}
}

// rope reads rope_theta and rope_scaling (or the newer rope_parameters).
func (c *configReader) rope(rotary int) Position {
	p := Position{Kind: RoPE, RotaryDims: rotary, Base: c.floatOr(10000, "rope_theta", "rotary_emb_base")}
	field := "rope_scaling"
	raw, _ := c.m[field].(map[string]any)
	if params, ok := c.m["rope_parameters"].(map[string]any); ok { // transformers >= 5
		field, raw = "rope_parameters", params
		sub := &configReader{path: c.path, m: params, prefix: field + "."}
		p.Base = sub.floatOr(p.Base, "rope_theta")
		c.adopt(sub)
	}
	if raw == nil {
		if v, present := c.m[field]; present && v != nil {
			c.fail(field, "want an object or null")
		}
		return p
	}
	sub := &configReader{path: c.path, m: raw, prefix: field + "."}
	kind := sub.str("rope_type", sub.str("type", "default"))
	switch kind {
	case "default":
	case "linear":
		p.Scaling = RoPEScaling{Kind: kind, Factor: sub.floatReq("factor")}
	case "llama3":
		p.Scaling = RoPEScaling{Kind: kind, Factor: sub.floatReq("factor"),
			LowFreqFactor: sub.floatReq("low_freq_factor"), HighFreqFactor: sub.floatReq("high_freq_factor"),
			OriginalMaxPositions: sub.intReq("original_max_position_embeddings")}
	default:
		sub.fail("rope_type", "unsupported RoPE scaling %q (supported: default, linear, llama3)", kind)
	}
	c.adopt(sub)
	return p
}

func ropeConfig(m map[string]any, p Position) {
	m["rope_theta"] = jsonFloat(p.Base)
	s := p.Scaling
	switch s.Kind {
	case "linear":
		m["rope_scaling"] = map[string]any{"rope_type": "linear", "type": "linear", "factor": jsonFloat(s.Factor)}
	case "llama3":
		m["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": jsonFloat(s.Factor), "low_freq_factor": jsonFloat(s.LowFreqFactor),
			"high_freq_factor": jsonFloat(s.HighFreqFactor), "original_max_position_embeddings": s.OriginalMaxPositions}
	default:
		m["rope_scaling"] = nil
	}
}

func configLlamaLike(fam Family) func(a Arch) map[string]any {
	return func(a Arch) map[string]any {
		m := map[string]any{
			"hidden_size": a.DModel, "num_attention_heads": a.Heads, "num_key_value_heads": a.KVHeads,
			"head_dim": a.HeadDim, "num_hidden_layers": a.Layers, "intermediate_size": a.FFN.Width,
			"vocab_size": a.Vocab, "max_position_embeddings": a.MaxPositions, "hidden_act": hfActName(a.FFN.Act),
			"rms_norm_eps": jsonFloat(a.Norm.Eps), "initializer_range": jsonFloat(0.02), "attention_dropout": jsonFloat(0),
		}
		ropeConfig(m, a.Position)
		switch fam {
		case Llama:
			m["attention_bias"] = a.Bias.QKV
			m["mlp_bias"] = a.Bias.FFN
			m["pretraining_tp"] = 1
		case Mistral:
			if a.SlidingWindow > 0 {
				m["sliding_window"] = a.SlidingWindow
			} else {
				m["sliding_window"] = nil
			}
		case Qwen2:
			m["use_sliding_window"] = a.SlidingWindow > 0
			m["sliding_window"] = a.SlidingWindow
			m["max_window_layers"] = a.Layers
		}
		return m
	}
}

func expressibleLlamaLike(fam Family) func(a Arch) error {
	return func(a Arch) error {
		var bias error
		switch fam {
		case Llama:
			bias = need(a.Bias.QKV == a.Bias.O, "q, k, v and o biases all on or all off (attention_bias)")
		case Mistral:
			bias = need(a.Bias == Biases{}, "no biases")
		case Qwen2:
			bias = need(a.Bias == Biases{QKV: true}, "q, k, v biases only")
		}
		return firstErr(
			need(a.Position.Kind == RoPE && a.Position.RotaryDims == a.HeadDim, "RoPE on the whole head"),
			need(a.Norm.Kind == RMSNorm && a.Norm.Pre && a.FinalNorm, "pre-RMSNorm with a final norm"),
			need(a.FFN.Gated, "a gated FFN"),
			bias,
			need(!a.ParallelResidual, "a sequential residual"),
			need(fam != Llama || a.SlidingWindow == 0, "no sliding window"),
		)
	}
}

// ---- GPT-NeoX (Pythia) ----

func parseNeoX(c *configReader) Arch {
	d := c.intReq("hidden_size")
	heads := c.intReq("num_attention_heads")
	headDim := 0
	if heads > 0 {
		headDim = d / heads
		if d%heads != 0 {
			c.fail("num_attention_heads", "hidden_size %d is not a multiple of num_attention_heads %d", d, heads)
		}
	}
	pct := c.floatOr(0.25, "rotary_pct", "partial_rotary_factor")
	if !(pct > 0 && pct <= 1) {
		c.fail("rotary_pct", "must be in (0, 1], got %g", pct)
	}
	// int() truncation as in modeling_gpt_neox.py.
	rotary := int(float64(headDim) * pct)
	if rotary < 2 || rotary%2 != 0 {
		c.fail("rotary_pct", "%g of head size %d gives %d rotary dimensions; RoPE needs an even number >= 2", pct, headDim, rotary)
	}
	pos := c.rope(rotary)
	if pos.Scaling.Kind == "llama3" {
		c.fail("rope_scaling", "llama3 scaling is not a GPT-NeoX option (supported: linear)")
	}
	ab := c.boolOr(true, "attention_bias")
	return Arch{
		Layers: c.intReq("num_hidden_layers"), DModel: d, Heads: heads, KVHeads: heads, HeadDim: headDim,
		Vocab: c.intReq("vocab_size"), MaxPositions: c.intReq("max_position_embeddings"),
		FFN:              FFN{Act: c.act("gelu", "hidden_act"), Width: c.intReq("intermediate_size")},
		Norm:             Norm{Kind: LayerNorm, Eps: c.floatOr(1e-5, "layer_norm_eps"), Bias: true, Pre: true},
		Position:         pos,
		ParallelResidual: c.boolOr(true, "use_parallel_residual"),
		Bias:             Biases{QKV: ab, O: ab, FFN: true},
		TiedEmbeddings:   c.boolOr(false, "tie_word_embeddings"),
		FinalNorm:        true,
	}
}

func configNeoX(a Arch) map[string]any {
	pct := float64(a.Position.RotaryDims) / float64(a.HeadDim)
	m := map[string]any{
		"hidden_size": a.DModel, "num_attention_heads": a.Heads, "num_hidden_layers": a.Layers,
		"intermediate_size": a.FFN.Width, "vocab_size": a.Vocab, "max_position_embeddings": a.MaxPositions,
		"hidden_act": hfActName(a.FFN.Act), "layer_norm_eps": jsonFloat(a.Norm.Eps), "rotary_pct": jsonFloat(pct),
		"partial_rotary_factor": jsonFloat(pct), "rotary_emb_base": jsonFloat(a.Position.Base),
		"use_parallel_residual": a.ParallelResidual, "attention_bias": a.Bias.QKV,
		"initializer_range": jsonFloat(0.02), "attention_dropout": jsonFloat(0), "hidden_dropout": jsonFloat(0),
	}
	ropeConfig(m, a.Position)
	if s := a.Position.Scaling; s.Kind == "linear" {
		m["rope_scaling"] = map[string]any{"type": "linear", "rope_type": "linear", "factor": jsonFloat(s.Factor)}
	}
	return m
}

func expressibleNeoX(a Arch) error {
	rot := a.Position.RotaryDims
	return firstErr(
		need(a.Position.Kind == RoPE, "RoPE positions"),
		need(int(float64(a.HeadDim)*(float64(rot)/float64(a.HeadDim))) == rot, "rotary dims that rotary_pct reproduces"),
		need(a.Position.Scaling.Kind != "llama3", "no llama3 RoPE scaling"),
		need(a.Norm.Kind == LayerNorm && a.Norm.Bias && a.Norm.Pre && a.FinalNorm, "pre-LayerNorm with bias and a final norm"),
		need(!a.FFN.Gated, "an ungated FFN"),
		need(a.Bias.QKV == a.Bias.O && a.Bias.FFN, "FFN biases, and q/k/v/o biases all on or all off"),
		need(a.KVHeads == a.Heads, "as many kv heads as heads"),
		need(a.HeadDim*a.Heads == a.DModel, "head_dim * heads = d_model"),
		need(a.SlidingWindow == 0, "no sliding window"),
	)
}

// ---- OPT ----

// optPositionOffset is the row of position 0 in OPT's learned table (a
// fairseq padding convention that HF keeps).
const optPositionOffset = 2

func parseOPT(c *configReader) Arch {
	d := c.intReq("hidden_size")
	heads := c.intReq("num_attention_heads")
	if w := c.intOr(d, "word_embed_proj_dim"); w != d {
		c.fail("word_embed_proj_dim", "%d differs from hidden_size %d: OPT's project_in/project_out layers (OPT-350m) are not supported", w, d)
	}
	if !c.boolOr(true, "layer_norm_elementwise_affine") {
		c.fail("layer_norm_elementwise_affine", "false (LayerNorm without weights) is not supported")
	}
	pre := c.boolOr(true, "do_layer_norm_before")
	npos := c.intReq("max_position_embeddings")
	bias := c.boolOr(true, "enable_bias")
	a := Arch{
		Layers: c.intReq("num_hidden_layers"), DModel: d, Heads: heads, KVHeads: heads,
		Vocab: c.intReq("vocab_size"), MaxPositions: npos,
		FFN:            FFN{Act: c.act("relu", "activation_function"), Width: c.intReq("ffn_dim")},
		Norm:           Norm{Kind: LayerNorm, Eps: 1e-5, Bias: true, Pre: pre},
		Position:       Position{Kind: Learned, Offset: optPositionOffset, Rows: npos + optPositionOffset},
		Bias:           Biases{QKV: bias, O: bias, FFN: bias},
		TiedEmbeddings: c.boolOr(true, "tie_word_embeddings"),
		FinalNorm:      pre && !c.boolOr(false, "_remove_final_layer_norm"),
	}
	if heads > 0 {
		a.HeadDim = d / heads
		if d%heads != 0 {
			c.fail("num_attention_heads", "hidden_size %d is not a multiple of num_attention_heads %d", d, heads)
		}
	}
	return a
}

func configOPT(a Arch) map[string]any {
	return map[string]any{
		"hidden_size": a.DModel, "num_attention_heads": a.Heads, "num_hidden_layers": a.Layers,
		"ffn_dim": a.FFN.Width, "vocab_size": a.Vocab, "max_position_embeddings": a.MaxPositions,
		"word_embed_proj_dim": a.DModel, "activation_function": hfActName(a.FFN.Act),
		"do_layer_norm_before": a.Norm.Pre, "_remove_final_layer_norm": a.Norm.Pre && !a.FinalNorm,
		"enable_bias": a.Bias.QKV, "layer_norm_elementwise_affine": true,
		"dropout": jsonFloat(0), "attention_dropout": jsonFloat(0), "init_std": jsonFloat(0.02), "pad_token_id": 1,
	}
}

func expressibleOPT(a Arch) error {
	return firstErr(
		need(a.Position.Kind == Learned && a.Position.Offset == optPositionOffset && a.Position.Rows == a.MaxPositions+optPositionOffset, "learned positions with offset 2"),
		need(a.Norm.Kind == LayerNorm && a.Norm.Bias && a.Norm.Eps == 1e-5, "LayerNorm with bias and eps 1e-5"),
		need(a.Norm.Pre || !a.FinalNorm, "no final norm when post-norm"),
		need(!a.FFN.Gated, "an ungated FFN"),
		need(a.Bias.QKV == a.Bias.O && a.Bias.O == a.Bias.FFN, "biases on every linear layer or none (enable_bias)"),
		need(a.KVHeads == a.Heads, "as many kv heads as heads"),
		need(a.HeadDim*a.Heads == a.DModel, "head_dim * heads = d_model"),
		need(!a.ParallelResidual, "a sequential residual"),
		need(a.SlidingWindow == 0, "no sliding window"),
	)
}

// jsonFloat marshals as Python's json does (10000.0, 1e-05), so float
// fields stay floats for readers that check types.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	s := strconv.FormatFloat(float64(f), 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return []byte(s), nil
}

func need(ok bool, what string) error {
	if ok {
		return nil
	}
	return errors.New("needs " + what)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// configReader reads typed fields from a config.json object, recording the
// first error with the file and field name.
type configReader struct {
	path   string
	m      map[string]any
	prefix string // for nested objects such as rope_scaling
	err    error
}

func (c *configReader) fail(field, format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%s: field %q: %s", c.path, c.prefix+field, fmt.Sprintf(format, args...))
	}
}

// adopt keeps a nested reader's error if none came first.
func (c *configReader) adopt(sub *configReader) {
	if c.err == nil {
		c.err = sub.err
	}
}

// has reports a present, non-null field.
func (c *configReader) has(key string) bool { return c.m[key] != nil }

// lookup returns the first present non-null key among keys.
func (c *configReader) lookup(keys []string) (string, any) {
	for _, k := range keys {
		if v := c.m[k]; v != nil {
			return k, v
		}
	}
	return keys[0], nil
}

func (c *configReader) number(key string, v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		c.fail(key, "want a number, got %v", v)
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) {
		c.fail(key, "bad number %s", n)
		return 0, false
	}
	return f, true
}

func (c *configReader) toInt(key string, v any) int {
	f, ok := c.number(key, v)
	if !ok {
		return 0
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<40 {
		c.fail(key, "want an integer, got %v", v)
		return 0
	}
	return int(f)
}

func (c *configReader) intReq(key string) int {
	if !c.has(key) {
		c.fail(key, "missing")
		return 0
	}
	return c.toInt(key, c.m[key])
}

func (c *configReader) intOr(def int, keys ...string) int {
	k, v := c.lookup(keys)
	if v == nil {
		return def
	}
	return c.toInt(k, v)
}

func (c *configReader) floatReq(key string) float64 {
	if !c.has(key) {
		c.fail(key, "missing")
		return 0
	}
	f, _ := c.number(key, c.m[key])
	return f
}

func (c *configReader) floatOr(def float64, keys ...string) float64 {
	k, v := c.lookup(keys)
	if v == nil {
		return def
	}
	f, _ := c.number(k, v)
	return f
}

func (c *configReader) boolOr(def bool, key string) bool {
	v := c.m[key]
	if v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		c.fail(key, "want true or false, got %v", v)
	}
	return b
}

func (c *configReader) str(key, def string) string {
	v := c.m[key]
	if v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		c.fail(key, "want a string, got %v", v)
	}
	return s
}

// intList reads an integer or a list of integers (eos_token_id).
func (c *configReader) intList(key string) []int {
	switch v := c.m[key].(type) {
	case nil:
		return nil
	case []any:
		out := make([]int, 0, len(v))
		for _, e := range v {
			out = append(out, c.toInt(key, e))
		}
		return slices.Clip(out)
	default:
		return []int{c.toInt(key, v)}
	}
}
