// Package config holds the fully resolved configuration of one training run.
//
// It is the contract between the layers: the compiler turns `.sink` files into
// Run values, the model builder and the runtime read them, and the results
// package flattens them into the `runs` table. Struct tags form the schema the
// DSL is checked against (see schema.go): `sink` names the key, `enum` lists the
// allowed identifiers, `kinds` restricts a constructor argument to some kinds,
// `min`/`max` bound numbers, and `doc` documents the key for docs/dsl.md.
package config

// Version identifies the training and measurement semantics. It is part of
// every run id: bump it when a change alters what a given config trains or
// measures, so cached results are not reused across the change.
const Version = "0.1.0"

// Run is one fully resolved training run: one cell of an experiment's grid.
type Run struct {
	Experiment string  `json:"experiment" sink:"-"`
	Model      Model   `json:"model" sink:"model" doc:"the decoder architecture"`
	Data       Data    `json:"data" sink:"data" doc:"training, validation and probe data"`
	Train      Train   `json:"train" sink:"train" doc:"optimisation"`
	Measure    Measure `json:"measure" sink:"measure" doc:"what is measured on the probe set, and when"`
	// Seed seeds parameter initialisation and data sampling. It comes from
	// train.seeds: each seed of the list is a separate run.
	Seed int64 `json:"seed" sink:"-"`
	// Varied lists the settings this run's experiment varies, in axis order,
	// so summaries can show them as columns. It is derived, not hashed.
	Varied []Setting `json:"-" sink:"-"`
	// Index is the run's place in its experiment's grid (0-based, seeds
	// fastest), so results read back from disk can be shown in grid order.
	Index int `json:"-" sink:"-"`
	// SourceDir is the directory of the .sink file; data paths are relative
	// to it. Not hashed: moving a project does not change its runs.
	SourceDir string `json:"-" sink:"-"`
}

// Setting is one named value of a run, e.g. {"model.attention", "sigmoid"}.
type Setting struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Model describes a LLaMA-style decoder-only transformer.
type Model struct {
	Layers  int `json:"layers" sink:"layers" min:"1" max:"256" doc:"number of decoder blocks"`
	Heads   int `json:"heads" sink:"heads" min:"1" max:"1024" doc:"attention heads per block"`
	DModel  int `json:"d_model" sink:"d_model" min:"1" max:"65536" doc:"width of the residual stream"`
	HeadDim int `json:"head_dim" sink:"head_dim" min:"0" max:"65536" doc:"width of each head; 0 means d_model / heads"`
	// Vocab 0 means "the tokenizer's vocabulary size"; the compiler fills it in.
	Vocab     int       `json:"vocab" sink:"vocab" min:"0" max:"1048576" doc:"vocabulary size; 0 means the data's vocabulary"`
	Tied      bool      `json:"tied" sink:"tied" doc:"share the token embedding with the output projection"`
	FFN       FFN       `json:"ffn" sink:"ffn" doc:"feed-forward block"`
	Norm      Norm      `json:"norm" sink:"norm" doc:"normalisation layers"`
	Position  Position  `json:"position" sink:"position" doc:"positional encoding"`
	Attention Attention `json:"attention" sink:"attention" doc:"attention operation"`
	InitStd   float64   `json:"init_std" sink:"init_std" min:"0" max:"10" doc:"standard deviation of the normal weight initialiser"`
	// The settings below are off at their defaults and then left out of the
	// run's JSON (omitzero), so runs that do not use them keep their ids.
	HeadCombine HeadCombine `json:"head_combine,omitzero" sink:"head_combine" enum:"concat|sum" doc:"how the heads' outputs meet the output projection. concat: concatenated, then W_o [H*head_dim, d_model] (standard); sum: added up (each head_dim wide), then one W_o [head_dim, d_model] shared by all heads"`
	Bias        Bias        `json:"bias,omitzero" sink:"bias" doc:"learnable attention biases and sink slots (paper: attention sink acts like a key bias)"`
	Mask        Mask        `json:"mask,omitzero" sink:"mask" doc:"which keys each query sees"`
	// Settings of the Hugging Face families (GPT-2, LLaMA, Mistral, Qwen2,
	// GPT-NeoX, OPT), off at their defaults as the ones above.
	KVHeads    int        `json:"kv_heads,omitempty" sink:"kv_heads" min:"0" max:"1024" doc:"key/value heads (grouped-query attention, LLaMA/Mistral): query head h uses key/value head floor(h / (heads/kv_heads)); must divide heads; 0 means heads (multi-head attention)"`
	LinearBias LinearBias `json:"linear_bias,omitzero" sink:"linear_bias" enum:"none|qkv|all" doc:"learned biases of the linear maps. none: no bias (LLaMA); qkv: on the q, k and v projections (Qwen2); all: also on the attention output projection and both FFN projections (GPT-2, OPT, GPT-NeoX)"`
	Residual   Residual   `json:"residual,omitzero" sink:"residual" enum:"sequential|parallel" doc:"how a block adds its attention and FFN. sequential: x += attn(norm1(x)), then x += ffn(norm2(x)); parallel: x += attn(norm1(x)) + ffn(norm2(x)), both from the same x (GPT-NeoX, GPT-J; pre-norm only)"`
	// Checkpoint is a Hugging Face model directory, relative to the .sink
	// file. The compiler reads its config.json and fills in every other
	// model setting; empty (the default) is left out of the run's JSON.
	Checkpoint string `json:"checkpoint,omitempty" sink:"checkpoint" doc:"a Hugging Face model directory (config.json, model.safetensors or shards with model.safetensors.index.json, and the tokenizer's files), relative to the .sink file: the model is the checkpoint's (families gpt2, llama, mistral, qwen2, gpt_neox, opt), every other model setting comes from its config.json and may not be set; train.steps defaults to 0 (measure only) and data.tokenizer to the checkpoint's own"`
	// CheckpointSHA256 fingerprints the checkpoint's config.json, index and
	// safetensors headers and file sizes (not the weights), which the
	// compiler fills in: a checkpoint replaced on disk gives new run ids.
	CheckpointSHA256 string `json:"checkpoint_sha256,omitempty" sink:"-"`
	// DocumentMask and DocumentToken come from data.document_attention
	// within and the eot separator's id (the compiler fills them in): each
	// query then sees only the keys of its own document, a document starting
	// at each DocumentToken (which belongs to the document it starts) or at
	// the sequence's start. Off (false) by default and left out of the JSON.
	DocumentMask  bool `json:"document_mask,omitempty" sink:"-"`
	DocumentToken int  `json:"document_token,omitempty" sink:"-"`
}

// FromCheckpoint reports whether the model is a pretrained checkpoint's.
func (m Model) FromCheckpoint() bool { return m.Checkpoint != "" }

// LinearBias says which linear maps have a learned bias (Model.LinearBias).
type LinearBias string

// IsZero reports whether no linear map has a bias (the default), which the
// run's JSON leaves out.
func (b LinearBias) IsZero() bool { return b == "" || b == "none" }

// QKV reports whether the q, k and v projections have biases.
func (b LinearBias) QKV() bool { return b == "qkv" || b == "all" }

// All reports whether every linear map of a block has a bias.
func (b LinearBias) All() bool { return b == "all" }

// Residual is how a block adds its sublayers (Model.Residual).
type Residual string

// IsZero reports whether the residual is sequential (the default), which
// the run's JSON leaves out.
func (r Residual) IsZero() bool { return r == "" || r == "sequential" }

// KVHeadsOrDefault is the number of key/value heads.
func (m Model) KVHeadsOrDefault() int {
	if m.KVHeads > 0 {
		return m.KVHeads
	}
	return m.Heads
}

// HeadCombine is how the heads' outputs are combined (Model.HeadCombine).
type HeadCombine string

// IsZero reports whether heads are concatenated (the default), which the
// run's JSON leaves out.
func (h HeadCombine) IsZero() bool { return h == "" || h == "concat" }

// Bias adds learnable biases to attention. Kinds k, kv and sink_token add
// one slot (column 0) before token 1 in every attention row.
type Bias struct {
	Kind    string  `json:"kind" sink:",kind" catalogue:"bias"`
	PerHead bool    `json:"per_head,omitempty" sink:"per_head" doc:"true: each head has its own k* (and v*); false: one shared by all heads"`
	Dims    int     `json:"dims,omitempty" sink:"dims" min:"0" max:"65536" doc:"d_a: k* is learned in its first d_a dimensions only, the others are 0; 0 means all of head_dim"`
	Value   string  `json:"value,omitempty" sink:"value" enum:"zero|e1|uniform" doc:"the fixed slot value v* of k: zero; e1: m*e1 (m in the first dimension); uniform: m/sqrt(head_dim) in every dimension (norm m)"`
	M       float64 `json:"m,omitempty" sink:"m" min:"0" max:"1000000" doc:"the norm m of a fixed value v* (value e1 or uniform)"`
}

// IsZero reports whether no bias is added (the default), which the run's
// JSON leaves out.
func (b Bias) IsZero() bool { return b.Kind == "" || b.Kind == "none" }

// Mask says which keys each query sees. Positions are 1-based as in Sink_k.
type Mask struct {
	Kind  string `json:"kind" sink:",kind" catalogue:"mask"`
	Size  int    `json:"size,omitempty" sink:"size" min:"1" max:"65536" doc:"required: the window width w, the block length, or the prefix length p (at most data.context)"`
	Shift int    `json:"shift,omitempty" sink:"shift" min:"0" max:"65535" doc:"how far odd layers shift the block boundaries (0 to size-1); 0: every layer uses the same blocks"`
}

// IsZero reports whether the mask is causal (the default), which the run's
// JSON leaves out.
func (m Mask) IsZero() bool { return m.Kind == "" || m.Kind == "causal" }

// FFN is the feed-forward block of each layer.
type FFN struct {
	Kind   string `json:"kind" sink:",kind" catalogue:"ffn" doc:"activation; the *glu kinds are gated"`
	Hidden int    `json:"hidden" sink:"hidden" min:"0" max:"1048576" doc:"hidden width; 0 means 8/3 d_model rounded up to 32 for gated kinds, 4 d_model otherwise"`
}

// Norm is the normalisation used in every block and at the output.
type Norm struct {
	Kind      string  `json:"kind" sink:",kind" catalogue:"norm" doc:"normalisation function"`
	Placement string  `json:"placement" sink:"placement" enum:"pre|post" doc:"pre: x + f(norm(x)) with a final norm; post: norm(x + f(x)) with no final norm"`
	Eps       float64 `json:"eps" sink:"eps" min:"0" max:"1" doc:"added to the variance"`
}

// Position is the positional encoding.
type Position struct {
	Kind string  `json:"kind" sink:",kind" catalogue:"position"`
	Base float64 `json:"base" sink:"base" min:"1" doc:"RoPE frequency base"`
	// Arguments of the kinds added later are left out of the JSON when they
	// do not apply, so rope and nope runs keep their ids.
	Buckets     int `json:"buckets,omitempty" sink:"buckets" min:"2" max:"4096" doc:"number of T5 buckets: half exact distances, half logarithmic up to max_distance"`
	MaxDistance int `json:"max_distance,omitempty" sink:"max_distance" min:"2" max:"1048576" doc:"distances from max_distance on share the last bucket; more than buckets/2"`
	Length      int `json:"length,omitempty" sink:"length" min:"0" max:"1048576" doc:"rows of the learned table; 0 means data.context + offset (plus 1 with bias sink_token)"`
	Offset      int `json:"offset,omitempty" sink:"offset" min:"0" max:"65536" doc:"position t (0-based) uses row t + offset of the table (OPT: 2)"`
	// RoPE variants of the LLaMA-3 and GPT-NeoX families.
	RotaryDims      int         `json:"rotary_dims,omitempty" sink:"rotary_dims" min:"0" max:"65536" doc:"rotate only the first rotary_dims dimensions of each head (even; GPT-NeoX rotary_pct * head_dim), the others pass unrotated; 0 means all of head_dim"`
	Scaling         RopeScaling `json:"scaling,omitzero" sink:"scaling" enum:"none|linear|llama3" doc:"frequency scaling (Hugging Face rope_scaling). none; linear: every inverse frequency divided by factor; llama3: LLaMA-3.1's, low frequencies (wavelength > original_context/low_freq_factor) divided by factor, high ones (wavelength < original_context/high_freq_factor) kept, a smooth blend between"`
	Factor          float64     `json:"factor,omitempty" sink:"factor" min:"0" max:"1000000" doc:"the scaling factor of linear and llama3 scaling"`
	LowFreqFactor   float64     `json:"low_freq_factor,omitempty" sink:"low_freq_factor" min:"0" max:"1000000" doc:"llama3 scaling's low_freq_factor"`
	HighFreqFactor  float64     `json:"high_freq_factor,omitempty" sink:"high_freq_factor" min:"0" max:"1000000" doc:"llama3 scaling's high_freq_factor (more than low_freq_factor)"`
	OriginalContext int         `json:"original_context,omitempty" sink:"original_context" min:"0" max:"16777216" doc:"llama3 scaling's original_max_position_embeddings"`
}

// RopeScaling is RoPE's frequency scaling (Position.Scaling).
type RopeScaling string

// IsZero reports whether RoPE is not scaled (the default), which the run's
// JSON leaves out.
func (s RopeScaling) IsZero() bool { return s == "" || s == "none" }

// RotaryDimsOrDefault is the number of rotated dimensions of each head.
func (m Model) RotaryDimsOrDefault() int {
	if m.Position.RotaryDims > 0 {
		return m.Position.RotaryDims
	}
	return m.HeadDimOrDefault()
}

// Attention is the attention operation: how query-key scores become weights.
type Attention struct {
	// Op names an entry of the attention catalogue (arch_attention.go).
	Op string `json:"op" sink:",kind" catalogue:"attention" doc:"with scores s = q.k/sqrt(d_h) over the visible keys"`
	// Z is the row normaliser of ops whose raw weights do not sum to 1.
	Z string `json:"z" sink:"z" enum:"one|sum" doc:"one: no normalisation (paper's Z=1); sum: divide each row by its sum + 1e-8 (by max(abs(sum), 1) for the identity and mlp kernels, as the paper)"`
	// Arguments added later are left out of the JSON when they do not
	// apply (or are off), so earlier runs keep their ids.
	Alpha  float64       `json:"alpha,omitempty" sink:"alpha" min:"0" max:"1000" doc:"the mass scale: each row sums to alpha"`
	Kernel string        `json:"kernel,omitempty" sink:"kernel" enum:"elu|identity|mlp" doc:"the feature map phi applied to the post-RoPE q and k of each head: elu: elu(x)+1; identity: x; mlp: W2 relu(W1 x), W1 and W2 head_dim x head_dim per layer, shared by the heads"`
	Gate   AttentionGate `json:"gate,omitzero" sink:"gate" enum:"none|head|element" doc:"sigmoid output gate on the attention output before the output projection: none; head: one gate per head, sigmoid(x W_g) with W_g [d_model, H]; element: one per output dimension, W_g [d_model, H*head_dim]; x is the attention block's (normalised) input"`
}

// AttentionGate is the output gate of attention (Attention.Gate).
type AttentionGate string

// IsZero reports whether attention is not gated (the default), which the
// run's JSON leaves out.
func (g AttentionGate) IsZero() bool { return g == "" || g == "none" }

// Data describes where token sequences come from.
type Data struct {
	Corpus     Corpus     `json:"corpus" sink:"corpus" doc:"where training text comes from"`
	Tokenizer  Tokenizer  `json:"tokenizer" sink:"tokenizer" doc:"how text corpora become tokens"`
	Context    int        `json:"context" sink:"context" min:"2" max:"65536" doc:"training sequence length T"`
	FirstToken FirstToken `json:"first_token" sink:"first_token" doc:"what sits at position 1 (the first) of every training, validation and probe sequence"`
	Holdout    float64    `json:"holdout" sink:"holdout" min:"0.001" max:"0.5" doc:"fraction of the corpus (its end) held out for validation and probes"`
	// The settings below are off at their defaults and then left out of the
	// run's JSON (omitempty / omitzero), so runs that do not use them keep
	// their ids.
	Separator    Separator    `json:"separator,omitzero" sink:"separator" doc:"what goes between documents (files, JSONL records) when a corpus is joined into one stream"`
	FixedToken   FixedToken   `json:"fixed_token,omitzero" sink:"fixed_token" doc:"a token placed at one position of every training, validation and probe sequence (paper: a fixed token at position 2 moves the sink to Sink_2)"`
	RandomTokens RandomTokens `json:"random_tokens,omitzero" sink:"random_tokens" doc:"positions whose tokens are replaced by uniformly random ones in training and validation sequences and natural probes"`
	UniqueTokens int          `json:"unique_tokens,omitempty" sink:"unique_tokens" min:"0" doc:"unique-token budget (data amount): train only on the first N tokens of the training split, drawing windows from them again and again; 0 means the whole split"`
	// DocumentAttention within masks attention at document boundaries
	// inside a window (packed documents); the compiler copies it into
	// Model.DocumentMask, which the graph uses.
	DocumentAttention DocumentAttention `json:"document_attention,omitzero" sink:"document_attention" enum:"across|within" doc:"which keys a query sees when a window holds several documents (packed, with separator eot). across: every earlier key of the window (causal, as if the documents were one text); within: only the keys of its own document, which starts at the eot separator before it (the separator is the document's first token, as a BOS) or at the window's start; requires separator eot"`
}

// DocumentAttention says whether attention crosses document boundaries
// within a window (Data.DocumentAttention).
type DocumentAttention string

// IsZero reports whether attention crosses documents (the default), which
// the run's JSON leaves out.
func (a DocumentAttention) IsZero() bool { return a == "" || a == "across" }

// Within reports whether each query sees only the keys of its own document.
func (a DocumentAttention) Within() bool { return a == "within" }

// Corpus is the source of text.
type Corpus struct {
	Kind string `json:"kind" sink:",kind" enum:"builtin|files|jsonl|tokens|bigram_backcopy" doc:"builtin: the Go toolchain's own source tree (go env GOROOT), read at run time; files: text files, each a document; jsonl: JSON Lines files, each record's text field a document; tokens: pre-tokenized little-endian uint16 files as nanoGPT writes them (.bin), each a document; bigram_backcopy: synthetic task of Guo et al. 2024"`
	// Paths are files or globs, relative to the .sink file's directory.
	Paths []string `json:"paths,omitempty" sink:"paths" kinds:"files|jsonl|tokens" doc:"files or globs, relative to the .sink file"`
	// MaxBytes caps how much text is read (0 = no cap).
	MaxBytes int `json:"max_bytes,omitempty" sink:"max_bytes" kinds:"builtin|files|jsonl" min:"0" doc:"read at most this many bytes of text (separators included); 0 means all"`
	// Field is the JSONL record field holding the text.
	Field string `json:"field,omitempty" sink:"field" kinds:"jsonl" doc:"the string field of each JSON record that holds its text"`
	// MaxTokens caps how many tokens of token files are read (0 = no cap).
	MaxTokens int `json:"max_tokens,omitempty" sink:"max_tokens" kinds:"tokens" min:"0" doc:"read at most this many tokens (separators included); 0 means all"`
	// Bigram-Backcopy parameters.
	Triggers    int     `json:"triggers,omitempty" sink:"triggers" kinds:"bigram_backcopy" min:"1" doc:"number of trigger tokens"`
	Successors  int     `json:"successors,omitempty" sink:"successors" kinds:"bigram_backcopy" min:"1" doc:"possible next tokens of a non-trigger token in the bigram chain"`
	TriggerRate float64 `json:"trigger_rate,omitempty" sink:"trigger_rate" kinds:"bigram_backcopy" min:"0" max:"1" doc:"probability that a non-trigger token is followed by a trigger"`
	// Lags 0 is the original task (every trigger copies the token before
	// it); it is left out of the JSON so existing run ids do not change.
	Lags  int `json:"lags,omitempty" sink:"lags" kinds:"bigram_backcopy" min:"0" doc:"copy distances (an extension): trigger k (0-based) copies the token 1 + (k mod lags) positions before it, so each distance is a separate back-copy job; 0 (unset) or 1 is Guo et al.'s task (every trigger copies the token just before it); at most triggers"`
	Vocab int `json:"vocab,omitempty" sink:"vocab" kinds:"bigram_backcopy|tokens" min:"4" max:"65536" doc:"vocabulary of the synthetic chain, or of the token files (required for tokens: every id must be below it)"`
}

// FirstToken says whether position 1 (the first; index 0) holds a fixed
// token (a BOS-like token).
type FirstToken struct {
	Kind string `json:"kind" sink:",kind" enum:"none|fixed|bos" doc:"none: data as it comes; fixed: position 1 always holds the same token, followed by the data; bos: position 1 holds the tokenizer's BOS token (a bpe tokenizer that has one, e.g. a checkpoint's), followed by the data"`
	// Token is the fixed token's id; for bos the compiler fills in the
	// tokenizer's BOS id (the tokenizer's path is the run's identity).
	Token int `json:"token" sink:"token" kinds:"fixed" min:"0" doc:"the fixed token's id; an id outside the data's vocabulary is a dedicated BOS-like id that grows it"`
}

// Places reports whether position 1 holds a token of its own (fixed or
// bos), Token.
func (f FirstToken) Places() bool { return f.Kind == "fixed" || f.Kind == "bos" }

// Separator is what joins the documents of a corpus (its files, or its
// JSONL records) into one token stream. It does not apply to
// bigram_backcopy, which generates one stream.
type Separator struct {
	Kind  string `json:"kind" sink:",kind" enum:"newline|none|eot" doc:"newline: a newline byte (10) between text documents, nothing between token files; none: documents back to back; eot: an end-of-text token between documents"`
	Token int    `json:"token" sink:"token" kinds:"eot" min:"0" max:"65535" doc:"the end-of-text token's id; an id outside the corpus vocabulary is a dedicated id that grows it (256 for bytes)"`
}

// IsZero reports whether the separator is the default (newline), which
// the run's JSON leaves out.
func (s Separator) IsZero() bool { return s.Kind == "" || s.Kind == "newline" }

// FixedToken places one token at a fixed 1-based position of every
// training, validation and probe sequence, replacing the data there.
type FixedToken struct {
	Kind     string `json:"kind" sink:",kind" enum:"none|fixed" doc:"none: off; fixed: the token replaces the data at the position"`
	Position int    `json:"position" sink:"position" kinds:"fixed" min:"2" max:"65536" doc:"1-based position, as in Sink_k (position 1 is first_token's); at most data.context"`
	Token    int    `json:"token" sink:"token" kinds:"fixed" min:"0" doc:"the token's id; an id outside the data's vocabulary is a dedicated id that grows it"`
}

// IsZero reports whether no fixed token is placed (the default), which the
// run's JSON leaves out.
func (f FixedToken) IsZero() bool { return f.Kind == "" || f.Kind == "none" }

// RandomTokens replaces the tokens at 1-based positions [From, To) by
// tokens drawn uniformly from the corpus vocabulary.
type RandomTokens struct {
	Kind string `json:"kind" sink:",kind" enum:"none|span" doc:"none: off; span: positions from to to-1 hold uniformly random tokens of the corpus vocabulary"`
	From int    `json:"from" sink:"from" kinds:"span" min:"1" max:"65537" doc:"first random position (1-based, as in Sink_k)"`
	To   int    `json:"to" sink:"to" kinds:"span" min:"2" max:"65537" doc:"the position after the last random one (the span is [from, to)); at most data.context + 1"`
}

// IsZero reports whether no positions are randomised (the default), which
// the run's JSON leaves out.
func (r RandomTokens) IsZero() bool { return r.Kind == "" || r.Kind == "none" }

// Train describes optimisation.
type Train struct {
	Steps     int       `json:"steps" sink:"steps" min:"0" doc:"optimiser steps; 0 (measure the model as it is) only with model.checkpoint, where it is the default"`
	Batch     int       `json:"batch" sink:"batch" min:"1" doc:"sequences per step"`
	Optimizer Optimizer `json:"optimizer" sink:"optimizer" doc:"optimiser and its hyper-parameters"`
	Schedule  Schedule  `json:"schedule" sink:"schedule" doc:"learning-rate schedule"`
	// LayerDrop is left out of the JSON when 0, so run ids without it are
	// unchanged.
	LayerDrop float64 `json:"layer_drop,omitempty" sink:"layer_drop" min:"0" max:"0.9" doc:"LayerDrop (stochastic depth): in each training step every sequence skips each block with this probability (its attention and FFN outputs are not added to the residual stream; kept blocks' outputs are scaled by 1/(1-p)), drawn from the run's seed and the step so resumed runs draw the same; validation and the probe use every block. A skipped block is still computed and its output multiplied by 0, so LayerDrop saves no time; with post-norm the block's norms still apply. 0: off"`
	// Seeds is expanded into runs by the compiler; a resolved Run has one Seed.
	Seeds []int64 `json:"-" sink:"seeds" doc:"one run per seed"`
}

// Optimizer is AdamW with global-norm gradient clipping.
type Optimizer struct {
	Kind        string    `json:"kind" sink:",kind" enum:"adamw" doc:"AdamW (decoupled weight decay)"`
	LR          float64   `json:"lr" sink:"lr" min:"0" max:"10" doc:"peak learning rate"`
	Betas       []float64 `json:"betas" sink:"betas" len:"2" min:"0" max:"0.999999" doc:"[beta1, beta2]"`
	Eps         float64   `json:"eps" sink:"eps" min:"0" max:"1" doc:"added to the second-moment root"`
	WeightDecay float64   `json:"weight_decay" sink:"weight_decay" min:"0" max:"100" doc:"decoupled weight decay"`
	Clip        float64   `json:"clip" sink:"clip" min:"0" doc:"global gradient-norm clip; 0 disables"`
	Decay       DecaySet  `json:"decay,omitzero" sink:"decay" enum:"all|matrices" doc:"which parameters weight decay applies to. all: every parameter; matrices: the weight matrices of linear maps (q, k, v and output projections, FFN, untied output head, attention gate, mlp kernel), not norm gains and biases, embeddings (token, tied or not, and learnable positions), attention-bias slots, relative-position biases or sink logits"`
}

// DecaySet is which parameters weight decay applies to (Optimizer.Decay).
type DecaySet string

// IsZero reports whether every parameter decays (the default), which the
// run's JSON leaves out.
func (d DecaySet) IsZero() bool { return d == "" || d == "all" }

// Schedule is linear warm-up followed by a decay shape.
type Schedule struct {
	Kind   string  `json:"kind" sink:",kind" enum:"constant|cosine|linear" doc:"shape after warm-up"`
	Warmup int     `json:"warmup" sink:"warmup" min:"0" doc:"linear warm-up steps from 0 to the peak"`
	MinLR  float64 `json:"min_lr" sink:"min_lr" kinds:"cosine|linear" min:"0" doc:"final learning rate as a fraction of the peak"`
}

// Measure says what is measured on the probe set, and when.
type Measure struct {
	Every          int       `json:"every" sink:"every" min:"0" doc:"probe every N steps (and always at the end); 0 means only at the end"`
	ProbeSequences int       `json:"probe_sequences" sink:"probe_sequences" min:"1" max:"100000" doc:"held-out probe sequences"`
	ProbeLength    int       `json:"probe_length" sink:"probe_length" min:"2" max:"65536" doc:"probe sequence length T (at most data.context)"`
	Probe          Probe     `json:"probe,omitzero" sink:"probe" doc:"what the probe sequences hold; data.first_token and data.fixed_token apply to every kind"`
	Eps            []float64 `json:"eps" sink:"eps" min:"0" max:"1" doc:"thresholds of Sink_k^eps (strict >)"`
	Sink           []int     `json:"sink" sink:"sink" min:"1" doc:"1-based positions k to report Sink_k for (1 is always reported, and so are data.fixed_token's position and the position after data.random_tokens' span)"`
	ValBatches     int       `json:"val_batches" sink:"val_batches" min:"1" doc:"held-out batches for the validation loss"`
}

// Probe is the source of the probe sequences.
type Probe struct {
	Kind  string `json:"kind" sink:",kind" enum:"natural|random|repeated" doc:"natural: held-out data; random: tokens drawn uniformly from the corpus vocabulary; repeated: one token repeated over the whole sequence"`
	Token int    `json:"token" sink:"token" kinds:"repeated" min:"-1" doc:"the repeated token's id; -1 means a different random token of the corpus vocabulary for each sequence"`
}

// IsZero reports whether probes are natural (the default), which the run's
// JSON leaves out.
func (p Probe) IsZero() bool { return p.Kind == "" || p.Kind == "natural" }

// Default returns the configuration every `.sink` file starts from: the
// paper's default LLaMA-style model, scaled to a CPU.
func Default() Run {
	return Run{
		Model: Model{
			Layers: 4, Heads: 4, DModel: 128,
			FFN:         FFN{Kind: "swiglu"},
			Norm:        Norm{Kind: "rmsnorm", Placement: "pre", Eps: 1e-5},
			Position:    Position{Kind: "rope", Base: 10000, Buckets: 32, MaxDistance: 128},
			Attention:   Attention{Op: "softmax", Z: "one", Alpha: 1, Kernel: "elu", Gate: "none"},
			InitStd:     0.02,
			HeadCombine: "concat",
			Bias:        Bias{Kind: "none", Value: "zero", M: 1},
			Mask:        Mask{Kind: "causal"},
		},
		Data: Data{
			Corpus:            Corpus{Kind: "builtin", Triggers: 3, Successors: 3, TriggerRate: 0.1, Vocab: 64, Field: "text"},
			Tokenizer:         Tokenizer{Kind: "bytes"},
			Context:           64,
			FirstToken:        FirstToken{Kind: "none"},
			Holdout:           0.05,
			Separator:         Separator{Kind: "newline", Token: 256},
			FixedToken:        FixedToken{Kind: "none", Position: 2},
			RandomTokens:      RandomTokens{Kind: "none", From: 1, To: 2},
			DocumentAttention: "across",
		},
		Train: Train{
			Steps: 1000, Batch: 32,
			Optimizer: Optimizer{Kind: "adamw", LR: 1e-3, Betas: []float64{0.9, 0.95}, Eps: 1e-8, WeightDecay: 0.1, Clip: 1.0, Decay: "all"},
			Schedule:  Schedule{Kind: "constant", Warmup: 100},
			Seeds:     []int64{1},
		},
		Measure: Measure{Every: 250, ProbeSequences: 100, ProbeLength: 64, Probe: Probe{Kind: "natural", Token: -1},
			Eps: []float64{0.3}, Sink: []int{1}, ValBatches: 8},
		Seed: 1,
	}
}

// HeadDimOrDefault is the width of one head.
func (m Model) HeadDimOrDefault() int {
	if m.HeadDim > 0 {
		return m.HeadDim
	}
	return m.DModel / m.Heads
}

// HiddenOrDefault is the FFN hidden width.
func (f FFN) HiddenOrDefault(dModel int) int {
	if f.Hidden > 0 {
		return f.Hidden
	}
	if f.Gated() {
		return (8*dModel/3 + 31) / 32 * 32
	}
	return 4 * dModel
}

// VocabSize is the number of token ids the data can produce: the
// tokenizer's, token files' or synthetic corpus's vocabulary, grown to hold
// a fixed first token, a fixed token or an end-of-text separator placed
// outside it (dedicated ids).
func (d Data) VocabSize() int {
	v, _ := d.DataVocab()
	if d.FirstToken.Places() {
		v = max(v, d.FirstToken.Token+1)
	}
	if d.FixedToken.Kind == "fixed" {
		v = max(v, d.FixedToken.Token+1)
	}
	if d.Separator.Kind == "eot" {
		v = max(v, d.Separator.Token+1)
	}
	return v
}
