package model

import (
	"fmt"

	"github.com/sinkrun/sinkrun/config"
)

// validateVariants checks the model's architecture variants (positions,
// biases, masks, gate, head combination) for a config that did not come
// through the compiler, which reports the same problems with positions.
func validateVariants(m config.Model) error {
	dh := m.HeadDimOrDefault()
	switch m.Position.Kind {
	case "rope", "nope", "alibi":
	case "absolute":
		if m.DModel%2 != 0 {
			return fmt.Errorf("model: absolute positions need an even d_model, got %d", m.DModel)
		}
	case "learnable":
		if m.Position.Length < 1 {
			return fmt.Errorf("model: learnable positions need length >= 1, got %d", m.Position.Length)
		}
	case "relative":
		if p := m.Position; p.Buckets < 2 || p.MaxDistance <= p.Buckets/2 {
			return fmt.Errorf("model: relative positions need buckets >= 2 and max_distance > buckets/2, got %d and %d", p.Buckets, p.MaxDistance)
		}
	default:
		return fmt.Errorf("model: unknown position %q", m.Position.Kind)
	}
	switch m.HeadCombine {
	case "", "concat", "sum":
	default:
		return fmt.Errorf("model: unknown head_combine %q", m.HeadCombine)
	}
	switch m.Attention.Gate {
	case "", "none", "head", "element":
	default:
		return fmt.Errorf("model: unknown attention gate %q", m.Attention.Gate)
	}
	b := m.Bias
	switch b.Kind {
	case "", "none", "v", "sink_token":
	case "k", "kv":
		if b.Dims < 0 || b.Dims > dh {
			return fmt.Errorf("model: bias dims must be between 0 and head_dim (%d), got %d", dh, b.Dims)
		}
		if b.Kind == "k" {
			switch b.Value {
			case "", "zero", "e1", "uniform":
			default:
				return fmt.Errorf("model: unknown bias value %q", b.Value)
			}
		}
	default:
		return fmt.Errorf("model: unknown bias %q", b.Kind)
	}
	mk := m.Mask
	switch mk.Kind {
	case "", "causal":
	case "window", "prefix", "shifted_window":
		if mk.Size < 1 {
			return fmt.Errorf("model: mask %s needs size >= 1, got %d", mk.Kind, mk.Size)
		}
		if mk.Kind == "shifted_window" && (mk.Shift < 0 || mk.Shift >= mk.Size) {
			return fmt.Errorf("model: shifted_window shift must be between 0 and size-1 (%d), got %d", mk.Size-1, mk.Shift)
		}
	default:
		return fmt.Errorf("model: unknown mask %q", mk.Kind)
	}
	if op, ok := attentionOps[m.Attention.Op]; ok && op.Slots > 0 && b.Slots() > 0 {
		return fmt.Errorf("model: attention %s has its own slot; it cannot be combined with bias %s", m.Attention.Op, b.Kind)
	}
	if m.Attention.Op == "linear" {
		if b.Kind == "k" || b.Kind == "kv" {
			return fmt.Errorf("model: linear attention cannot be combined with bias %s", b.Kind)
		}
		if m.Position.Kind == "alibi" || m.Position.Kind == "relative" {
			return fmt.Errorf("model: linear attention cannot be combined with %s positions (a bias on the scores)", m.Position.Kind)
		}
	}
	return nil
}
