package model

// Design notes.
//
// Correctness. TestAgainstPyTorch (SINKRUN_TORCH=1, needs python3 with torch)
// trains the same initial weights on the same tokens with an independent
// PyTorch implementation (testdata/torch_check.py: torch.optim.AdamW,
// clip_grad_norm_, F.layer_norm, ...) and agrees to ~1e-6 on losses and
// gradient norms for every norm, FFN, position and attention variant.
//
// Architecture variants (positions.go, attention_ops.go, transformer.go):
// every option is decided at graph-build time, so options that are off add no
// node: the default model's training graph is node-for-node the one it was
// before the variants existed. TestVariantsMatchReference checks each variant's
// probe maps and loss against refModel (reference_test.go), a float64
// re-implementation written from the config docs.
//
// Slots. Bias k / kv add a key column (k*, not rotated) before the keys; bias
// sink_token prepends a learned token to the residual stream (position 0, so
// tokens sit at 1..T for the positional encodings), dropped again before the
// logits; the sink_logit op adds a value-less logit column. Each is visible to
// every query under every mask, and is column 0 of the probe's attention rows
// (ProbeOutput.Slots = 1): column 1 is then token 1. A model has at most one
// slot. Columns without a value (sink logit, K bias with v* = 0) are sliced off
// before the values are mixed.
//
// Initialisation. Every variable is drawn on the host from its own PCG stream
// seeded by (seed, FNV hash of its path): normal(0, init_std) for matrices, the
// embedding and the variants' vectors (learned positions, relative biases, k*,
// v*, sink token, gate), ones for norm gains, zeros for norm biases and sink
// logits, and fan-in normals for the mlp kernel (sqrt(2/dh), then sqrt(1/dh)).
// GoMLX's default initialiser draws from an unseeded RNG and is not used.
//
// GoMLX pitfalls handled here (v0.28.16, Go backend):
//   - The Go backend advertises PreferConstantsForVariables: a graph not marked
//     as training freezes variables that already hold a value into the compiled
//     graph as constants, so later updates are silently ignored. Every graph
//     here calls scope.SetTraining(g, true) (see asParameters).
//   - graph.Softmax differentiates a decomposed copy of itself, which then
//     also runs in the forward pass; softmaxLastAxis gives the fused softmax an
//     analytic gradient instead.
//   - The fused Dense gradient transposes x for [in, out] weights and dy for
//     [out, in] weights, with a slow scalar transpose: w2 is stored [out, in]
//     because its dy is narrower than its x.
//   - DotGeneral runs without copies only when batch axes lead and the lhs
//     contracting axes trail; q, k, v are therefore laid out [B,H,T,dh].
//
// Layout of the training step: inputs tokens [B,T] and targets [B,T] (int32)
// and hyper [4] (float32 scalars computed on the host in float64: 1-lr·wd,
// lr/(1-b1^t), sqrt(1-b2^t)); outputs the loss and the global gradient norm.
// Variables (parameters and AdamW moments) are updated in place by model.Exec.
