package model

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/core/tensors"
	gmodel "github.com/gomlx/gomlx/ml/model"

	"github.com/sinkrun/sinkrun/config"
)

// Weights from elsewhere (a Hugging Face checkpoint, an export): the model's
// parameters by path, with their shapes and layouts. config.Model.Params
// documents each one; in short, with D d_model, H heads, KV key/value heads,
// dh head_dim, F the FFN hidden width and V the vocabulary, every projection
// is applied as x @ W with W stored [in, out], except ffn/w2, stored [D, F]
// and applied as h @ w2^T:
//
//	/embed                    [V, D]          token embeddings (tied: also the output projection, x @ embed^T)
//	/position/learnable       [length, D]     position t uses row t + offset
//	/layer_L/norm1/gain, bias [D]             before attention (bias: layernorm only)
//	/layer_L/attn/wqkv        [D, (H+2KV)dh]  columns: q heads, then k heads, then v heads, dh each
//	/layer_L/attn/bqkv        [(H+2KV)dh]     linear_bias qkv or all, wqkv's column order
//	/layer_L/attn/wo          [H·dh, D]       rows h·dh..(h+1)·dh-1 take head h
//	/layer_L/attn/bo          [D]             linear_bias all
//	/layer_L/norm2/gain, bias [D]             before the FFN
//	/layer_L/ffn/w1           [D, F]          or [D, 2F] for gated kinds: gate columns, then value columns
//	/layer_L/ffn/b1           [F] or [2F]     linear_bias all
//	/layer_L/ffn/w2           [D, F]          applied transposed
//	/layer_L/ffn/b2           [D]             linear_bias all
//	/final_norm/gain, bias    [D]             pre-norm placement only
//	/head                     [D, V]          untied only: logits = x @ head
//
// Hugging Face's torch Linear stores [out, in] (transpose it); GPT-2's Conv1D
// stores [in, out] (as here). RoPE rotates the pairs (i, i + r/2) of each
// head's first r dimensions (rotate_half, as HF LLaMA and GPT-NeoX).

// Params lists the model's trainable parameters in creation order.
func (m *Model) Params() []config.Param { return m.cfg.Params() }

// SetParams sets parameters by path from row-major float32 values in the
// parameter's layout. Every path must name a parameter and every length match
// its shape; nothing changes when one does not. Parameters not named keep
// their values. The optimiser state (AdamW moments and step count) is reset:
// training continues from these weights as from a fresh start.
func (m *Model) SetParams(values map[string][]float32) (err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverInto(&err, "model.SetParams")
	byPath := make(map[string]*gmodel.Variable, len(m.params))
	for _, p := range m.params {
		byPath[p.Path()] = p
	}
	tensorsByVar := map[*gmodel.Variable]*tensors.Tensor{}
	paths := make([]string, 0, len(values))
	for path := range values {
		paths = append(paths, path)
	}
	slices.Sort(paths) // deterministic error messages
	for _, path := range paths {
		v, ok := byPath[path]
		if !ok {
			return fmt.Errorf("model.SetParams: no parameter %q in this model", path)
		}
		shape := v.Shape()
		if len(values[path]) != shape.Size() {
			return fmt.Errorf("model.SetParams: %s has shape %v (%d values), got %d values", path, shape.Dimensions, shape.Size(), len(values[path]))
		}
		tensorsByVar[v] = tensors.FromFlatDataAndDimensions(slices.Clone(values[path]), shape.Dimensions...)
	}
	for v, t := range tensorsByVar {
		if err := v.SetValue(t); err != nil {
			return fmt.Errorf("model.SetParams: %s: %w", v.Path(), err)
		}
	}
	for _, v := range append(slices.Clone(m.m1), m.m2...) {
		if err := v.SetValue(tensors.FromShape(v.Shape())); err != nil {
			return fmt.Errorf("model.SetParams: resetting %s: %w", v.Path(), err)
		}
	}
	m.adamStep = 0
	return nil
}

// Param returns a parameter's current values (row-major) and shape.
func (m *Model) Param(path string) (values []float32, dims []int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer recoverInto(&err, "model.Param")
	for _, p := range m.params {
		if p.Path() == path {
			t, err := p.Value()
			if err != nil {
				return nil, nil, fmt.Errorf("model.Param: %s: %w", path, err)
			}
			return tensors.MustCopyFlatData[float32](t), t.Shape().Dimensions, nil
		}
	}
	return nil, nil, fmt.Errorf("model.Param: no parameter %q in this model", path)
}
