package model

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"

	"github.com/sinkrun/sinkrun/config"
)

// AdamW as PyTorch's torch.optim.AdamW, with torch.nn.utils.clip_grad_norm_
// before it:
//
//	g    *= min(1, clip / (||g||_global + 1e-6))      (when clip > 0)
//	m     = b1 m + (1-b1) g
//	v     = b2 v + (1-b2) g²
//	p     = p (1 - lr wd)                              (decoupled decay; every parameter, or
//	                                                    only weight matrices with decay: matrices)
//	p    -= (lr / (1-b1^t)) m / (sqrt(v) / sqrt(1-b2^t) + eps)
//
// The step-dependent scalars are computed on the host in float64 (like
// PyTorch's Python floats) and fed as the `hyper` input, so the schedule
// changes every step without recompiling:
//
//	hyper = [1 - lr·wd, lr/(1-b1^t), sqrt(1-b2^t), unused]

// hyper returns the fed scalars for global step `step` (schedule) and optimiser update t (1-based).
func (m *Model) hyper(step int, t int64) []float32 {
	o := m.train.Optimizer
	lr := m.LearningRate(step)
	b1, b2 := o.Betas[0], o.Betas[1]
	bc1 := 1 - math.Pow(b1, float64(t))
	bc2 := 1 - math.Pow(b2, float64(t))
	return []float32{float32(1 - lr*o.WeightDecay), float32(lr / bc1), float32(math.Sqrt(bc2)), 0}
}

// adamwUpdate builds the gradients of loss, clips them and updates the
// parameters and moments. It returns the global gradient norm before clipping.
func (m *Model) adamwUpdate(loss, hyper *Node) *Node {
	g := loss.Graph()
	o := m.train.Optimizer
	nodes := make([]*Node, len(m.params))
	for i, p := range m.params {
		nodes[i] = p.NodeValue(g)
	}
	grads := Gradient(loss, nodes...)

	var sumSq *Node
	for _, gr := range grads {
		s := ReduceAllSum(Square(gr))
		if sumSq == nil {
			sumSq = s
		} else {
			sumSq = Add(sumSq, s)
		}
	}
	gradNorm := Sqrt(sumSq)
	if o.Clip > 0 {
		// torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1.
		coef := MinScalar(Div(Scalar(g, loss.DType(), o.Clip), AddScalar(gradNorm, 1e-6)), 1.0)
		for i := range grads {
			grads[i] = Mul(grads[i], coef)
		}
	}

	h := func(i int) *Node { return Reshape(SliceAxis(hyper, 0, AxisElem(i))) }
	decay, stepSize, bc2Sqrt := h(0), h(1), h(2)
	b1, b2 := o.Betas[0], o.Betas[1]
	for i, p := range m.params {
		gr := grads[i]
		m1 := Add(MulScalar(m.m1[i].NodeValue(g), b1), MulScalar(gr, 1-b1))
		m2 := Add(MulScalar(m.m2[i].NodeValue(g), b2), MulScalar(Square(gr), 1-b2))
		denom := AddScalar(Div(Sqrt(m2), bc2Sqrt), o.Eps)
		value := nodes[i]
		if o.WeightDecay != 0 && m.decays[i] {
			value = Mul(value, decay)
		}
		value = Sub(value, Mul(stepSize, Div(m1, denom)))
		m.m1[i].SetNodeValue(m1)
		m.m2[i].SetNodeValue(m2)
		p.SetNodeValue(value)
	}
	return gradNorm
}

// LearningRate is the schedule's value at global step `step` (0-based):
// linear warm-up from 0 to lr over `warmup` steps (step s gets lr·(s+1)/warmup),
// then constant, or cosine / linear decay from lr at the end of warm-up to
// min_lr·lr at the last step (steps-1).
func (m *Model) LearningRate(step int) float64 {
	return Schedule(m.train, step)
}

// Schedule computes the learning rate of a training config at a 0-based step.
func Schedule(t config.Train, step int) float64 {
	lr := t.Optimizer.LR
	w := t.Schedule.Warmup
	if step < 0 {
		step = 0
	}
	if w > 0 && step < w {
		return lr * float64(step+1) / float64(w)
	}
	last := t.Steps - 1
	if t.Schedule.Kind == "constant" || t.Schedule.Kind == "" || last <= w {
		return lr
	}
	frac := float64(step-w) / float64(last-w) // 0 at the end of warm-up, 1 at the last step
	if frac > 1 {
		frac = 1
	}
	minLR := t.Schedule.MinLR * lr
	switch t.Schedule.Kind {
	case "cosine":
		return minLR + (lr-minLR)*0.5*(1+math.Cos(math.Pi*frac))
	case "linear":
		return lr + (minLR-lr)*frac
	}
	return lr
}
