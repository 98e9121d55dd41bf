// Package hf reads and writes Hugging Face transformer checkpoints
// (config.json + safetensors) for the decoder-only families sinkrun
// measures: gpt2, llama, mistral, qwen2, gpt_neox (Pythia) and opt. It is
// pure Go and knows nothing of GoMLX: the compiler uses it to check a
// checkpoint, the runtime to load weights, export to write them.
//
// # Reading
//
// Open(dir) parses config.json into an Arch (a family-neutral description:
// sizes, heads and kv heads, FFN, norms, positions, residual, biases, tied
// embeddings, token ids), opens model.safetensors or the shards listed by
// model.safetensors.index.json, validates every header (lengths, offsets
// that tile the file, sizes = dtype size x shape) and checks every tensor's
// name, dtype and shape against the architecture before any weight is
// read. Unknown model types, unsupported settings, missing, misshapen or
// unexpected tensors are errors naming the file and the field or tensor.
// Buffers older transformers versions saved (GPT-2's attn.bias and
// attn.masked_bias masks, GPT-NeoX's attention.bias, rotary_emb.inv_freq)
// are ignored by name; any other extra tensor is an error.
//
// Tensors are read one at a time, converted from F32, F16, BF16 or F64 to
// float32, either under their checkpoint names (ReadHF) or as canonical
// tensors (Read).
//
// # Canonical tensors
//
// Canonical tensors are the same in every family (CanonicalTensors lists
// them for an Arch). Every matrix is [in, out], applied as y = x @ W + b:
//
//	tok_embed              [vocab, d]    row t is token t's embedding
//	pos_embed              [rows, d]     learned positions only; position t uses row t + Position.Offset
//	layers.i.attn_norm     .weight [d] (.bias [d] for LayerNorm with bias)
//	layers.i.q             .weight [d, heads*head_dim]    .bias [heads*head_dim] if Bias.QKV
//	layers.i.k, layers.i.v .weight [d, kv_heads*head_dim] .bias if Bias.QKV
//	layers.i.o             .weight [heads*head_dim, d]    .bias [d] if Bias.O
//	layers.i.ffn_norm      .weight [d] (.bias)
//	layers.i.ffn.gate      .weight [d, ffn] (.bias if Bias.FFN), gated FFNs only
//	layers.i.ffn.up        .weight [d, ffn] (.bias)
//	layers.i.ffn.down      .weight [ffn, d] (.bias [d])
//	final_norm             .weight [d] (.bias), when Arch.FinalNorm
//	lm_head.weight         [d, vocab]    untied models only; tied ones use tok_embed transposed
//
// The projection outputs are head-major: column h*head_dim + j is dimension
// j of head h. With grouped-query attention, query head h reads kv head
// h / (heads / kv_heads), as repeat_kv does.
//
// From the checkpoint layouts:
//   - GPT-2's Conv1D weights are stored [in, out] already; the fused
//     c_attn [d, 3d] holds q | k | v as consecutive column blocks.
//   - GPT-NeoX's fused query_key_value is an nn.Linear [3d, d] whose output
//     axis is ordered [heads, 3, head_dim] (per head: q, then k, then v),
//     as modeling_gpt_neox.py views it; it is regrouped into q, k, v.
//   - LLaMA, Mistral, Qwen2, OPT and GPT-NeoX nn.Linear weights [out, in] are
//     transposed.
//
// Write inverts the mapping (canonical -> checkpoint layout).
//
// # Attention conventions the model must follow
//
// Scores are q·k / sqrt(head_dim) for every family (OPT scales q after its
// bias, which is the same). RoPE follows Hugging Face's rotate_half
// convention: within a head, dimension i < RotaryDims/2 rotates with
// dimension i + RotaryDims/2 by angle position * Position.InvFreq()[i];
// dimensions from RotaryDims on pass through (GPT-NeoX's rotary_pct). The
// q and k weights of LLaMA-family checkpoints are kept exactly as Hugging
// Face stores them; they were permuted at conversion time for this
// convention, so a model that pairs adjacent dimensions (2i, 2i+1) instead
// would compute different attention. Positions start at 0 for the first
// token (a prepended BOS included). Learned positions: OPT's row offset of
// 2 is kept in the table, as Position.Offset.
//
// Norms: LayerNorm is (x - mean) / sqrt(var + eps) * w + b with the biased
// variance; RMSNorm is x / sqrt(mean(x^2) + eps) * w. Activations: gelu
// (erf), gelu_tanh (HF gelu_new, gelu_pytorch_tanh, gelu_fast), relu, silu.
//
// Residual: x + attn(norm1(x)), then + ffn(norm2(.)) for pre-norm models;
// x + attn(norm1(x)) + ffn(norm2(x)) with ParallelResidual (GPT-NeoX);
// norm1(x + attn(x)), then norm2(. + ffn(.)) for post-norm OPT.
//
// # Writing
//
// Write stores canonical tensors pulled from a Source as a checkpoint that
// transformers loads (config.json with architectures and model_type,
// safetensors with "format": "pt" metadata and an 8-byte aligned header;
// F32, F16 or BF16; optionally sharded with an index), refusing an Arch the
// family cannot express. Generate writes random weights the same way, one
// tensor at a time, for tests and for trying a model size; Preset names
// tiny architectures that exercise each family's features and GPT-2 XL's
// shape.
//
// # Planning and limits
//
// ParamCount, DiskBytes, Float32Bytes and ForwardFLOPs size a model from its
// Arch alone; Arch.String summarises it in one line. Arch.CheckSequence
// refuses sequences longer than the position table or a sliding window
// (Mistral, Qwen2 with use_sliding_window): sinkrun attends causally over
// the whole sequence, which equals the checkpoint's own attention only up
// to the window, so the 64-token probes are exact for every window >= 64.
package hf
