package compiler

import (
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
)

// checkModel applies the cross-field rules of the model's architecture
// variants (positions, masks, biases, attention ops), so combinations the
// model cannot build are reported at the value that breaks them. It fills
// model.position.length for learnable positions.
func (c *compiler) checkModel(r *config.Run, at func(paths ...string) dsl.Pos) {
	m, d := &r.Model, &r.Data
	sinkToken := m.Bias.Kind == "sink_token"
	switch m.Position.Kind {
	case "absolute":
		if m.DModel%2 != 0 {
			c.errorf(at("model.position", "model.d_model"), "absolute positions need an even d_model (sin and cos halves), but d_model is %d", m.DModel)
		}
	case "learnable":
		need, why := d.Context, ""
		if sinkToken {
			need, why = d.Context+1, " + 1 for the sink token"
		}
		if m.Position.Length == 0 {
			m.Position.Length = need
		} else if m.Position.Length < need {
			c.errorf(at("model.position.length", "model.position", "data.context", "model.bias"),
				"model.position: learnable length %d is shorter than the sequences (data.context %d%s)", m.Position.Length, d.Context, why)
		}
	case "relative":
		if p := m.Position; p.MaxDistance <= p.Buckets/2 {
			c.errorf(at("model.position.max_distance", "model.position.buckets", "model.position"),
				"model.position: max_distance (%d) must be more than buckets/2 (%d): the first half of the buckets are exact distances", p.MaxDistance, p.Buckets/2)
		}
	}

	switch mk := m.Mask; mk.Kind {
	case "window", "shifted_window", "prefix":
		if mk.Size == 0 {
			example := map[string]string{"window": "window(size: 16)", "shifted_window": "shifted_window(size: 16, shift: 8)", "prefix": "prefix(size: 4)"}[mk.Kind]
			c.errorf(at("model.mask"), "model.mask: %s needs a size, e.g. %s", mk.Kind, example)
			break
		}
		if mk.Size > d.Context {
			c.errorf(at("model.mask.size", "model.mask", "data.context"), "model.mask: size %d is more than data.context (%d)", mk.Size, d.Context)
		}
		if mk.Kind == "shifted_window" && mk.Shift >= mk.Size {
			c.errorf(at("model.mask.shift", "model.mask.size", "model.mask"), "model.mask: shift (%d) must be less than size (%d)", mk.Shift, mk.Size)
		}
	}

	b := m.Bias
	if (b.Kind == "k" || b.Kind == "kv") && b.Dims > m.HeadDimOrDefault() {
		c.errorf(at("model.bias.dims", "model.bias", "model.head_dim", "model.heads", "model.d_model"),
			"model.bias: dims (%d) must be at most the head dimension (%d)", b.Dims, m.HeadDimOrDefault())
	}
	a := m.Attention
	if a.Op == "sink_logit" && b.Slots() > 0 {
		c.errorf(at("model.bias", "model.attention"), "model.bias: %s adds a slot before token 1, and so does attention sink_logit; use one of them", b.Kind)
	}
	if a.Op == "linear" {
		if b.Kind == "k" || b.Kind == "kv" {
			c.errorf(at("model.bias", "model.attention"), "model.bias: %s is not supported with linear attention (the kernel is not applied to the bias key)", b.Kind)
		}
		if m.Position.Kind == "alibi" || m.Position.Kind == "relative" {
			c.errorf(at("model.position", "model.attention"), "model.position: %s adds a bias to softmax-style scores; linear attention has none (use rope, nope, absolute or learnable)", m.Position.Kind)
		}
	}
}
