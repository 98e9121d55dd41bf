package model

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/sinkrun/sinkrun/config"
)

// refModel is a plain float64 re-implementation of the decoder (pre-norm
// RMSNorm, SwiGLU FFN) with every position, attention op, bias, mask, gate
// and head combination, written from the definitions in config's docs rather
// than from the graph code. It reads the weights of a built Model.
type refModel struct {
	cfg        config.Model
	D, H, dh   int
	F, V       int
	vars       map[string][]float64
	scale      float64
	slotKey    bool // bias k / kv
	sinkToken  bool
	opSlot     bool // sink_logit
	prefixSkip int
}

func newRefModel(m *Model) *refModel {
	r := &refModel{cfg: m.cfg, D: m.cfg.DModel, H: m.cfg.Heads, dh: m.headDim, F: m.hidden, V: m.cfg.Vocab,
		vars: map[string][]float64{}, scale: 1 / math.Sqrt(float64(m.headDim))}
	for _, p := range m.params {
		f32 := flat(p)
		f64 := make([]float64, len(f32))
		for i, x := range f32 {
			f64[i] = float64(x)
		}
		r.vars[p.Path()] = f64
	}
	r.slotKey = r.cfg.Bias.Kind == "k" || r.cfg.Bias.Kind == "kv"
	r.sinkToken = r.cfg.Bias.Kind == "sink_token"
	r.opSlot = r.cfg.Attention.Op == "sink_logit"
	if r.cfg.Mask.Kind == "prefix" {
		r.prefixSkip = r.cfg.Mask.Size - 1
	}
	return r
}

func (r *refModel) v(path string) []float64 {
	x, ok := r.vars[path]
	if !ok {
		panic("reference: no variable " + path)
	}
	return x
}

// norm is the configured norm of a block's (or the final) norm scope.
func (r *refModel) norm(x []float64, scope string) []float64 {
	if r.cfg.Norm.Kind != "layernorm" {
		return r.rmsnorm(x, r.v(scope+"/gain"))
	}
	mean, vr := 0.0, 0.0
	for _, e := range x {
		mean += e / float64(len(x))
	}
	for _, e := range x {
		vr += (e - mean) * (e - mean) / float64(len(x))
	}
	gain, bias := r.v(scope+"/gain"), r.v(scope+"/bias")
	out := make([]float64, len(x))
	for i, e := range x {
		out[i] = (e-mean)/math.Sqrt(vr+r.cfg.Norm.Eps)*gain[i] + bias[i]
	}
	return out
}

// addBias adds the linear map's bias at path, if the model has it.
func (r *refModel) addBias(y []float64, path string) []float64 {
	if b, ok := r.vars[path]; ok {
		for i := range y {
			y[i] += b[i]
		}
	}
	return y
}

func (r *refModel) rmsnorm(x []float64, gain []float64) []float64 {
	ms := 0.0
	for _, e := range x {
		ms += e * e
	}
	inv := 1 / math.Sqrt(ms/float64(len(x))+r.cfg.Norm.Eps)
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] * inv * gain[i]
	}
	return out
}

// matvec is x @ W for W stored row-major [len(x), cols].
func matvec(x, w []float64, cols int) []float64 {
	out := make([]float64, cols)
	for i, xi := range x {
		for j := 0; j < cols; j++ {
			out[j] += xi * w[i*cols+j]
		}
	}
	return out
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func eluP1(x float64) float64 {
	if x > 0 {
		return x + 1
	}
	return math.Exp(x)
}

// visibleRef is the mask of config.Mask's docs, 0-based token positions.
func (r *refModel) visibleRef(layer, q, k int) bool {
	mk := r.cfg.Mask
	switch mk.Kind {
	case "window":
		return k <= q && q-k < mk.Size
	case "prefix":
		return k <= q || k < mk.Size
	case "shifted_window":
		if k > q {
			return false
		}
		start := 0 // the block of q starts at the last boundary <= q
		if layer%2 == 1 && mk.Shift > 0 {
			if q >= mk.Shift {
				start = mk.Shift + (q-mk.Shift)/mk.Size*mk.Size
			}
		} else {
			start = q / mk.Size * mk.Size
		}
		return k >= start
	}
	return k <= q
}

// forward runs one sequence of T tokens; it returns each layer's attention
// maps [H][T][slots+T] and the logits [T][V].
func (r *refModel) forward(tokens []int32) (maps [][][][]float64, logits [][]float64) {
	D := r.D
	off := 0
	var x [][]float64
	if r.sinkToken {
		x = append(x, append([]float64(nil), r.v("/sink_token")...))
		off = 1
	}
	emb := r.v("/embed")
	for _, tok := range tokens {
		x = append(x, append([]float64(nil), emb[int(tok)*D:int(tok+1)*D]...))
	}
	seq := len(x)
	switch r.cfg.Position.Kind {
	case "absolute":
		for p := 0; p < seq; p++ {
			for i := 0; i < D/2; i++ {
				w := math.Pow(10000, -float64(2*i)/float64(D))
				x[p][i] += math.Sin(float64(p) * w)
				x[p][D/2+i] += math.Cos(float64(p) * w)
			}
		}
	case "learnable":
		wpe := r.v("/position/learnable")
		off := r.cfg.Position.Offset
		for p := 0; p < seq; p++ {
			for i := 0; i < D; i++ {
				x[p][i] += wpe[(p+off)*D+i]
			}
		}
	}
	for l := 0; l < r.cfg.Layers; l++ {
		s := fmt.Sprintf("/layer_%d", l)
		hn := make([][]float64, seq)
		for p := range x {
			hn[p] = r.norm(x[p], s+"/norm1")
		}
		out, lmaps := r.attention(l, s, hn, off)
		maps = append(maps, lmaps)
		parallel := r.cfg.Residual == "parallel"
		var ffnIn [][]float64
		if parallel { // the FFN reads the block's input too
			for p := range x {
				ffnIn = append(ffnIn, r.norm(x[p], s+"/norm2"))
			}
		}
		for p := range x {
			for i := range x[p] {
				x[p][i] += out[p][i]
			}
		}
		for p := range x {
			var h []float64
			if parallel {
				h = ffnIn[p]
			} else {
				h = r.norm(x[p], s+"/norm2")
			}
			y := r.ffn(s, h)
			for i := 0; i < D; i++ {
				x[p][i] += y[i]
			}
		}
	}
	for p := off; p < seq; p++ {
		h := r.norm(x[p], "/final_norm")
		if r.cfg.Tied {
			logits = append(logits, matvecT(h, r.v("/embed"), r.V))
		} else {
			logits = append(logits, matvec(h, r.v("/head"), r.V))
		}
	}
	return maps, logits
}

// matvecT is x @ W^T for W stored row-major [rows, len(x)].
func matvecT(x, w []float64, rows int) []float64 {
	out := make([]float64, rows)
	for j := range out {
		for i, xi := range x {
			out[j] += xi * w[j*len(x)+i]
		}
	}
	return out
}

// ffn is the feed-forward block of one position (swiglu, or an ungated
// activation), with its biases under linear_bias all.
func (r *refModel) ffn(s string, h []float64) []float64 {
	gated := r.cfg.FFN.Kind == "swiglu"
	in := r.F
	if gated {
		in = 2 * r.F
	}
	gv := r.addBias(matvec(h, r.v(s+"/ffn/w1"), in), s+"/ffn/b1")
	act := make([]float64, r.F)
	for f := 0; f < r.F; f++ {
		a := gv[f]
		switch r.cfg.FFN.Kind {
		case "swiglu":
			act[f] = a * sigmoid(a) * gv[r.F+f]
		case "relu":
			act[f] = math.Max(a, 0)
		case "gelu":
			act[f] = a * 0.5 * (1 + math.Erf(a/math.Sqrt2))
		case "gelu_tanh":
			act[f] = 0.5 * a * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(a+0.044715*a*a*a)))
		default:
			panic("reference: ffn " + r.cfg.FFN.Kind)
		}
	}
	w2 := r.v(s + "/ffn/w2") // [D, F], applied as act @ w2^T
	y := make([]float64, r.D)
	for i := range y {
		for f := 0; f < r.F; f++ {
			y[i] += act[f] * w2[i*r.F+f]
		}
	}
	return r.addBias(y, s+"/ffn/b2")
}

func (r *refModel) rope(x []float64, pos int) []float64 {
	dh := len(x)
	if rd := r.cfg.Position.RotaryDims; rd > 0 {
		dh = rd // rotate the first rotary_dims, pass the rest
	}
	half := dh / 2
	out := append([]float64(nil), x...)
	p := r.cfg.Position
	for i := 0; i < half; i++ {
		inv := 1 / math.Pow(p.Base, float64(2*i)/float64(dh))
		switch p.Scaling { // Hugging Face's rope_scaling, written from its definition
		case "linear":
			inv /= p.Factor
		case "llama3":
			wavelen := 2 * math.Pi / inv
			lo, hi := float64(p.OriginalContext)/p.LowFreqFactor, float64(p.OriginalContext)/p.HighFreqFactor
			if wavelen > lo {
				inv /= p.Factor
			} else if wavelen >= hi {
				sm := (float64(p.OriginalContext)/wavelen - p.LowFreqFactor) / (p.HighFreqFactor - p.LowFreqFactor)
				inv = (1-sm)*inv/p.Factor + sm*inv
			}
		}
		ang := float64(pos) * inv
		c, s := math.Cos(ang), math.Sin(ang)
		out[i] = x[i]*c - x[i+half]*s
		out[i+half] = x[i+half]*c + x[i]*s
	}
	return out
}

func (r *refModel) phi(l int, x []float64) []float64 {
	out := make([]float64, len(x))
	switch r.cfg.Attention.Kernel {
	case "elu":
		for i, e := range x {
			out[i] = eluP1(e)
		}
	case "identity":
		copy(out, x)
	case "mlp":
		s := fmt.Sprintf("/layer_%d/attn/", l)
		h := matvec(x, r.v(s+"kernel_w1"), r.dh)
		for i := range h {
			h[i] = math.Max(h[i], 0)
		}
		out = matvec(h, r.v(s+"kernel_w2"), r.dh)
	}
	return out
}

// attention returns the attention block's output per residual position and
// the maps of the token queries.
func (r *refModel) attention(l int, s string, hn [][]float64, off int) ([][]float64, [][][]float64) {
	D, H, dh := r.D, r.H, r.dh
	seq := len(hn)
	a := r.cfg.Attention
	qkvW := r.v(s + "/attn/wqkv")
	KV := r.cfg.KVHeadsOrDefault()
	qkv := make([][]float64, seq)
	for p := range hn {
		qkv[p] = r.addBias(matvec(hn[p], qkvW, (H+2*KV)*dh), s+"/attn/bqkv")
	}
	alibi := alibiSlopesRef(H)
	var oAll [][]float64 // [seq][H*dh]
	var maps [][][]float64
	for h := 0; h < H; h++ {
		q := make([][]float64, seq)
		k := make([][]float64, seq)
		v := make([][]float64, seq)
		for p := 0; p < seq; p++ {
			kvh := h / (H / KV) // the key/value head of query head h
			q[p] = qkv[p][h*dh : (h+1)*dh]
			k[p] = qkv[p][H*dh+kvh*dh : H*dh+(kvh+1)*dh]
			v[p] = qkv[p][(H+KV)*dh+kvh*dh : (H+KV)*dh+(kvh+1)*dh]
			if r.cfg.Position.Kind == "rope" {
				q[p], k[p] = r.rope(q[p], p), r.rope(k[p], p)
			}
			if a.Op == "linear" {
				q[p], k[p] = r.phi(l, q[p]), r.phi(l, k[p])
			}
		}
		// Slot key / value (bias k, kv).
		var ks, vs []float64
		if r.slotKey {
			hk := 0
			if r.cfg.Bias.PerHead {
				hk = h
			}
			kb := r.v(s + "/attn/k_bias")
			da := len(kb)
			if r.cfg.Bias.PerHead {
				da /= H
			}
			ks = make([]float64, dh)
			copy(ks, kb[hk*da:(hk+1)*da])
			vs = make([]float64, dh)
			switch {
			case r.cfg.Bias.Kind == "kv":
				copy(vs, r.v(s + "/attn/v_bias")[hk*dh:(hk+1)*dh])
			case r.cfg.Bias.Value == "e1":
				vs[0] = r.cfg.Bias.M
			case r.cfg.Bias.Value == "uniform":
				for i := range vs {
					vs[i] = r.cfg.Bias.M / math.Sqrt(float64(dh))
				}
			}
		}
		o := make([][]float64, seq)
		for t := 0; t < seq; t++ {
			// Columns: [op slot] [key slot] keys 0..seq-1; visibility and raw scores.
			var cols []float64
			var vis []bool
			var vals [][]float64
			if r.slotKey {
				sc := 0.0
				for j := 0; j < dh; j++ {
					sc += q[t][j] * ks[j]
				}
				cols, vis, vals = append(cols, sc*r.scale), append(vis, true), append(vals, vs)
			}
			for p := 0; p < seq; p++ {
				sc := 0.0
				for j := 0; j < dh; j++ {
					sc += q[t][j] * k[p][j]
				}
				sc *= r.scale
				switch r.cfg.Position.Kind {
				case "alibi":
					sc -= alibi[h] * math.Abs(float64(t-p))
				case "relative":
					b := t5Bucket(max(t-p, 0), r.cfg.Position.Buckets, r.cfg.Position.MaxDistance)
					sc += r.v("/position/relative")[b*H+h]
				}
				ok := false
				switch {
				case off == 1 && p == 0:
					ok = true // the sink token is visible to everyone
				case off == 1 && t == 0:
					ok = false // the sink token sees only itself
				default:
					ok = r.visibleRef(l, t-off, p-off)
				}
				cols, vis, vals = append(cols, sc), append(vis, ok), append(vals, v[p])
			}
			w := r.op(l, h, cols, vis)
			// Mix (op slot first, it has no value).
			first := 0
			if r.opSlot {
				first = 1
			}
			o[t] = make([]float64, dh)
			for c := range vals {
				for j := 0; j < dh; j++ {
					o[t][j] += w[first+c] * vals[c][j]
				}
			}
			if r.cfg.Bias.Kind == "v" {
				hk := 0
				if r.cfg.Bias.PerHead {
					hk = h
				}
				for j := 0; j < dh; j++ {
					o[t][j] += r.v(s + "/attn/v_bias")[hk*dh+j]
				}
			}
			if t >= off {
				for len(maps) <= h {
					maps = append(maps, nil)
				}
				maps[h] = append(maps[h], w)
			}
		}
		if oAll == nil {
			oAll = make([][]float64, seq)
			for p := range oAll {
				oAll[p] = make([]float64, H*dh)
			}
		}
		for p := 0; p < seq; p++ {
			copy(oAll[p][h*dh:], o[p])
		}
	}
	out := make([][]float64, seq)
	for p := 0; p < seq; p++ {
		op := oAll[p]
		switch a.Gate {
		case "head":
			g := matvec(hn[p], r.v(s+"/attn/gate"), H)
			for h := 0; h < H; h++ {
				for j := 0; j < dh; j++ {
					op[h*dh+j] *= sigmoid(g[h])
				}
			}
		case "element":
			g := matvec(hn[p], r.v(s+"/attn/gate"), H*dh)
			for i := range op {
				op[i] *= sigmoid(g[i])
			}
		}
		if r.cfg.HeadCombine == "sum" {
			sum := make([]float64, dh)
			for h := 0; h < H; h++ {
				for j := 0; j < dh; j++ {
					sum[j] += op[h*dh+j]
				}
			}
			op = sum
		}
		out[p] = r.addBias(matvec(op, r.v(s+"/attn/wo"), D), s+"/attn/bo")
	}
	return out, maps
}

// op turns one row of scores into weights, per the op definitions.
func (r *refModel) op(l, h int, sc []float64, vis []bool) []float64 {
	a := r.cfg.Attention
	n := len(sc)
	w := make([]float64, n)
	softmax := func(extra []float64) []float64 { // extra logits first, always visible
		all := append(append([]float64(nil), extra...), sc...)
		allVis := append(make([]bool, len(extra)), vis...)
		for i := range extra {
			allVis[i] = true
		}
		mx := math.Inf(-1)
		for i, x := range all {
			if allVis[i] {
				mx = math.Max(mx, x)
			}
		}
		z := 0.0
		out := make([]float64, len(all))
		for i, x := range all {
			if allVis[i] {
				out[i] = math.Exp(x - mx)
				z += out[i]
			}
		}
		for i := range out {
			out[i] /= z
		}
		return out
	}
	rowSum := func(w []float64) float64 {
		s := 0.0
		for _, x := range w {
			s += x
		}
		return s
	}
	switch a.Op {
	case "softmax":
		return softmax(nil)
	case "scaled_softmax":
		w = softmax(nil)
		for i := range w {
			w[i] *= a.Alpha
		}
		return w
	case "softmax1":
		return softmax([]float64{0})[1:]
	case "sink_logit":
		return softmax([]float64{r.v(fmt.Sprintf("/layer_%d/attn/sink_logit", l))[h]})
	case "softpick":
		den := 1e-8
		for i, x := range sc {
			if vis[i] {
				w[i] = math.Max(math.Exp(x)-1, 0)
				den += math.Abs(math.Exp(x) - 1)
			}
		}
		for i := range w {
			w[i] /= den
		}
		return w
	case "sigmoid", "elu", "linear":
		for i, x := range sc {
			if !vis[i] {
				continue
			}
			switch a.Op {
			case "sigmoid":
				w[i] = sigmoid(x)
			case "elu":
				w[i] = eluP1(x)
			default:
				w[i] = x
			}
		}
		if a.Z == "sum" {
			s := rowSum(w)
			den := s + 1e-8
			if a.Op == "linear" && a.Kernel != "elu" {
				den = math.Max(math.Abs(s), 1)
			}
			for i := range w {
				w[i] /= den
			}
		}
		return w
	}
	panic("reference: op " + a.Op)
}

// alibiSlopesRef is the closed form 2^(-8h/H) (H a power of two).
func alibiSlopesRef(H int) []float64 {
	out := make([]float64, H)
	for h := range out {
		out[h] = math.Pow(2, -8*float64(h+1)/float64(H))
	}
	return out
}

// loss is the mean next-token cross-entropy of rows of T+1 tokens, skipping
// the first prefixSkip predictions of each row.
func (r *refModel) loss(rows []int32, batch int) float64 {
	T := len(rows)/batch - 1
	sum, n := 0.0, 0
	for b := 0; b < batch; b++ {
		row := rows[b*(T+1) : (b+1)*(T+1)]
		_, logits := r.forward(row[:T])
		for t := r.prefixSkip; t < T; t++ {
			mx := math.Inf(-1)
			for _, x := range logits[t] {
				mx = math.Max(mx, x)
			}
			z := 0.0
			for _, x := range logits[t] {
				z += math.Exp(x - mx)
			}
			sum += mx + math.Log(z) - logits[t][row[t+1]]
			n++
		}
	}
	return sum / float64(n)
}

// randomizeParams overwrites every parameter with seeded normal values of
// standard deviation std (norm gains 1 + noise), so zero-initialised
// parameters (sink logits) are exercised too.
func randomizeParams(t testing.TB, m *Model, std float64) {
	t.Helper()
	for _, p := range m.params {
		h := fnv.New64a()
		h.Write([]byte(p.Path()))
		rng := rand.New(rand.NewPCG(99, h.Sum64()))
		shape := p.Shape()
		vals := make([]float32, shape.Size())
		for i := range vals {
			x := rng.NormFloat64() * std
			if strings.HasSuffix(p.Path(), "/gain") {
				x = 1 + 0.1*x
			}
			vals[i] = float32(x)
		}
		p.MustSetValue(tensors.FromFlatDataAndDimensions(vals, shape.Dimensions...))
	}
}

// variantCases are the architecture variants checked against the reference
// and smoke-trained; each modifies tinyRun's model (V16 d32 L2 H2, RoPE,
// softmax, pre-RMSNorm, SwiGLU).
var variantCases = []struct {
	name   string
	modify func(m *config.Model)
}{
	{"default", func(m *config.Model) {}},
	{"position_nope", func(m *config.Model) { m.Position.Kind = "nope" }},
	{"position_absolute", func(m *config.Model) { m.Position.Kind = "absolute" }},
	{"position_learnable", func(m *config.Model) { m.Position.Kind, m.Position.Length = "learnable", 12 }},
	{"position_alibi", func(m *config.Model) { m.Position.Kind = "alibi" }},
	{"position_relative", func(m *config.Model) { m.Position.Kind, m.Position.Buckets, m.Position.MaxDistance = "relative", 4, 6 }},
	{"attention_scaled_softmax", func(m *config.Model) { m.Attention.Op, m.Attention.Alpha = "scaled_softmax", 0.3 }},
	{"attention_sigmoid_one", func(m *config.Model) { m.Attention.Op, m.Attention.Z = "sigmoid", "one" }},
	{"attention_sigmoid_sum", func(m *config.Model) { m.Attention.Op, m.Attention.Z = "sigmoid", "sum" }},
	{"attention_elu_one", func(m *config.Model) { m.Attention.Op, m.Attention.Z = "elu", "one" }},
	{"attention_elu_sum", func(m *config.Model) { m.Attention.Op, m.Attention.Z = "elu", "sum" }},
	{"attention_linear_elu_one", func(m *config.Model) { m.Attention.Op, m.Attention.Kernel, m.Attention.Z = "linear", "elu", "one" }},
	{"attention_linear_elu_sum", func(m *config.Model) { m.Attention.Op, m.Attention.Kernel, m.Attention.Z = "linear", "elu", "sum" }},
	{"attention_linear_identity_one", func(m *config.Model) {
		m.Attention.Op, m.Attention.Kernel, m.Attention.Z = "linear", "identity", "one"
	}},
	{"attention_linear_identity_sum", func(m *config.Model) {
		m.Attention.Op, m.Attention.Kernel, m.Attention.Z = "linear", "identity", "sum"
	}},
	{"attention_linear_mlp_one_nope", func(m *config.Model) {
		m.Attention.Op, m.Attention.Kernel, m.Attention.Z, m.Position.Kind = "linear", "mlp", "one", "nope"
	}},
	{"attention_linear_mlp_sum", func(m *config.Model) { m.Attention.Op, m.Attention.Kernel, m.Attention.Z = "linear", "mlp", "sum" }},
	{"attention_softmax1", func(m *config.Model) { m.Attention.Op = "softmax1" }},
	{"attention_softpick", func(m *config.Model) { m.Attention.Op = "softpick" }},
	{"attention_sink_logit", func(m *config.Model) { m.Attention.Op = "sink_logit" }},
	{"gate_head", func(m *config.Model) { m.Attention.Gate = "head" }},
	{"gate_element_sigmoid", func(m *config.Model) { m.Attention.Gate, m.Attention.Op, m.Attention.Z = "element", "sigmoid", "one" }},
	{"head_combine_sum", func(m *config.Model) { m.HeadCombine = "sum" }},
	{"head_combine_sum_head_dim_8", func(m *config.Model) { m.HeadCombine, m.HeadDim = "sum", 8 }},
	{"bias_k", func(m *config.Model) { m.Bias.Kind = "k" }},
	{"bias_k_per_head_dims_4", func(m *config.Model) { m.Bias = config.Bias{Kind: "k", PerHead: true, Dims: 4, Value: "zero", M: 1} }},
	{"bias_k_value_e1", func(m *config.Model) { m.Bias = config.Bias{Kind: "k", Value: "e1", M: 3} }},
	{"bias_k_value_uniform_relative", func(m *config.Model) {
		m.Bias = config.Bias{Kind: "k", Value: "uniform", M: 2}
		m.Position.Kind, m.Position.Buckets, m.Position.MaxDistance = "relative", 4, 6
	}},
	{"bias_kv", func(m *config.Model) { m.Bias.Kind = "kv" }},
	{"bias_kv_per_head_window", func(m *config.Model) {
		m.Bias = config.Bias{Kind: "kv", PerHead: true}
		m.Mask = config.Mask{Kind: "window", Size: 3}
	}},
	{"bias_kv_sigmoid_alibi", func(m *config.Model) {
		m.Bias.Kind, m.Attention.Op, m.Attention.Z, m.Position.Kind = "kv", "sigmoid", "one", "alibi"
	}},
	{"bias_v", func(m *config.Model) { m.Bias.Kind = "v" }},
	{"bias_v_per_head", func(m *config.Model) { m.Bias = config.Bias{Kind: "v", PerHead: true} }},
	{"bias_sink_token", func(m *config.Model) { m.Bias.Kind = "sink_token" }},
	{"bias_sink_token_learnable_prefix", func(m *config.Model) {
		m.Bias.Kind, m.Position.Kind, m.Position.Length = "sink_token", "learnable", 12
		m.Mask = config.Mask{Kind: "prefix", Size: 3}
	}},
	{"bias_sink_token_alibi_shifted", func(m *config.Model) {
		m.Bias.Kind, m.Position.Kind = "sink_token", "alibi"
		m.Mask = config.Mask{Kind: "shifted_window", Size: 3, Shift: 1}
	}},
	{"mask_window", func(m *config.Model) { m.Mask = config.Mask{Kind: "window", Size: 3} }},
	{"mask_window_1", func(m *config.Model) { m.Mask = config.Mask{Kind: "window", Size: 1} }},
	{"mask_shifted_window", func(m *config.Model) { m.Mask = config.Mask{Kind: "shifted_window", Size: 4, Shift: 2} }},
	{"mask_shifted_window_no_shift", func(m *config.Model) { m.Mask = config.Mask{Kind: "shifted_window", Size: 3} }},
	{"mask_prefix", func(m *config.Model) { m.Mask = config.Mask{Kind: "prefix", Size: 3} }},
	{"mask_prefix_sink_logit_relative", func(m *config.Model) {
		m.Mask = config.Mask{Kind: "prefix", Size: 4}
		m.Attention.Op = "sink_logit"
		m.Position.Kind, m.Position.Buckets, m.Position.MaxDistance = "relative", 4, 6
	}},
	// Features of the Hugging Face families (tinyRun: d32, H2, head_dim 16).
	{"kv_heads_1", func(m *config.Model) { m.KVHeads = 1 }},
	{"linear_bias_qkv", func(m *config.Model) { m.LinearBias = "qkv" }},
	{"linear_bias_all_layernorm", func(m *config.Model) { m.LinearBias, m.Norm.Kind = "all", "layernorm" }},
	{"ffn_gelu_tanh", func(m *config.Model) { m.FFN.Kind = "gelu_tanh" }},
	{"ffn_gelu_exact", func(m *config.Model) { m.FFN.Kind = "gelu" }},
	{"residual_parallel", func(m *config.Model) { m.Residual = "parallel" }},
	{"rope_rotary_dims_4", func(m *config.Model) { m.Position.RotaryDims = 4 }},
	{"rope_linear_scaling", func(m *config.Model) { m.Position.Scaling, m.Position.Factor = "linear", 2 }},
	{"rope_llama3_scaling", func(m *config.Model) {
		m.Position = config.Position{Kind: "rope", Base: 500000, Scaling: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8}
	}},
	{"learnable_offset_2_tied", func(m *config.Model) {
		m.Position.Kind, m.Position.Length, m.Position.Offset, m.Tied = "learnable", 14, 2, true
	}},
	{"family_gpt2", func(m *config.Model) {
		m.Norm.Kind, m.FFN.Kind, m.LinearBias, m.Tied = "layernorm", "gelu_tanh", "all", true
		m.Position.Kind, m.Position.Length = "learnable", 12
	}},
	{"family_opt", func(m *config.Model) {
		m.Norm.Kind, m.FFN.Kind, m.LinearBias, m.Tied = "layernorm", "relu", "all", true
		m.Position.Kind, m.Position.Length, m.Position.Offset = "learnable", 14, 2
	}},
	{"family_neox", func(m *config.Model) {
		m.Norm.Kind, m.FFN.Kind, m.LinearBias, m.Residual = "layernorm", "gelu", "all", "parallel"
		m.Position.RotaryDims = 4
	}},
	{"family_llama3_gqa", func(m *config.Model) {
		m.KVHeads = 1
		m.Position = config.Position{Kind: "rope", Base: 500000, Scaling: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8}
	}},
	{"family_qwen2", func(m *config.Model) { m.KVHeads, m.LinearBias, m.Position.Base = 1, "qkv", 1000000 }},
}

// TestVariantsMatchReference compares the probe's attention maps (slots
// included) and the evaluation loss of every variant with refModel.
func TestVariantsMatchReference(t *testing.T) {
	for _, vc := range variantCases {
		t.Run(vc.name, func(t *testing.T) {
			r := tinyRun()
			vc.modify(&r.Model)
			m := newModel(t, r, 1)
			randomizeParams(t, m, 0.3)
			ref := newRefModel(m)
			const N, T = 2, 8
			rng := rand.New(rand.NewPCG(21, 21))
			rows := randomTokens(rng, N*(T+1), r.Model.Vocab)
			probeTok := make([]int32, 0, N*T)
			for n := 0; n < N; n++ {
				probeTok = append(probeTok, rows[n*(T+1):n*(T+1)+T]...)
			}
			p, err := m.Probe(probeTok, N, T)
			if err != nil {
				t.Fatal(err)
			}
			wantSlots := 0
			if ref.slotKey || ref.sinkToken || ref.opSlot {
				wantSlots = 1
			}
			if p.Slots != wantSlots {
				t.Fatalf("Slots = %d, want %d", p.Slots, wantSlots)
			}
			S := p.Slots + T
			H := r.Model.Heads
			maxErr := 0.0
			for n := 0; n < N; n++ {
				maps, _ := ref.forward(probeTok[n*T : (n+1)*T])
				for l := range maps {
					if len(p.Attention[l]) != N*H*T*S {
						t.Fatalf("layer %d: %d values, want N*H*T*(Slots+T) = %d", l, len(p.Attention[l]), N*H*T*S)
					}
					for h := 0; h < H; h++ {
						for q := 0; q < T; q++ {
							for c := 0; c < S; c++ {
								want := maps[l][h][q][c]
								got := float64(p.Attention[l][((n*H+h)*T+q)*S+c])
								d := math.Abs(got - want)
								maxErr = math.Max(maxErr, d)
								if d > 1e-4*math.Max(1, math.Abs(want)) {
									t.Fatalf("seq %d layer %d head %d query %d column %d: probe %v, reference %v", n, l, h, q, c, got, want)
								}
							}
						}
					}
				}
			}
			got, err := m.EvalLoss(rows, N)
			if err != nil {
				t.Fatal(err)
			}
			want := ref.loss(rows, N)
			t.Logf("max map error %.2g; loss %.6f, reference %.6f", maxErr, got, want)
			if math.Abs(got-want) > 1e-4*math.Max(1, want) {
				t.Errorf("EvalLoss %v, reference %v", got, want)
			}
		})
	}
}
