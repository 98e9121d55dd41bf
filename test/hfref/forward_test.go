package hfref_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/sinkrun/sinkrun/formats/hf"
)

// forward is a plain float64 forward pass on formats/hf's canonical
// tensors, following the conventions of the package documentation only.
// It returns attention maps [layer][seq][head][query][key] and hidden-state
// norms in hfref.py's order [layer+1][seq][token], flattened.
func forward(t *testing.T, dir string, tokens [][]int) ([][][][][]float64, []float64) {
	t.Helper()
	ck, err := hf.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	a := ck.Arch
	w := map[string]mat{}
	for _, s := range hf.CanonicalTensors(a) {
		x, err := ck.Read(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		m := mat{cols: s.Shape[len(s.Shape)-1], v: make([]float64, len(x.Data))}
		for i, f := range x.Data {
			m.v[i] = float64(f)
		}
		w[s.Name] = m
	}
	maps := make([][][][][]float64, a.Layers)
	for l := range maps {
		maps[l] = make([][][][]float64, len(tokens))
	}
	norms := make([][][]float64, a.Layers+1) // [layer+1][seq][token]
	for l := range norms {
		norms[l] = make([][]float64, len(tokens))
	}
	inv := []float64(nil)
	if a.Position.Kind == hf.RoPE {
		inv = a.Position.InvFreq()
	}
	for s, ids := range tokens {
		T := len(ids)
		x := make([][]float64, T)
		for i, id := range ids {
			x[i] = append([]float64(nil), w["tok_embed"].row(id)...)
			if a.Position.Kind == hf.Learned {
				addTo(x[i], w["pos_embed"].row(i+a.Position.Offset))
			}
		}
		norms[0][s] = rowNorms(x)
		for l := range a.Layers {
			p := func(n string) string { return "layers." + strconv.Itoa(l) + "." + n }
			norm := func(rows [][]float64, name string) [][]float64 {
				out := make([][]float64, len(rows))
				for i, r := range rows {
					out[i] = normalize(a.Norm, r, w[p(name)+".weight"].v, w[p(name)+".bias"].v)
				}
				return out
			}
			in := x
			if a.Norm.Pre {
				in = norm(x, "attn_norm")
			}
			q := affine(in, w[p("q.weight")], w[p("q.bias")].v)
			k := affine(in, w[p("k.weight")], w[p("k.bias")].v)
			v := affine(in, w[p("v.weight")], w[p("v.bias")].v)
			if inv != nil {
				rope(q, a.Heads, a.HeadDim, inv)
				rope(k, a.KVHeads, a.HeadDim, inv)
			}
			probs, mixed := attention(q, k, v, a)
			maps[l][s] = probs
			attn := affine(mixed, w[p("o.weight")], w[p("o.bias")].v)
			ffn := func(rows [][]float64) [][]float64 {
				up := affine(rows, w[p("ffn.up.weight")], w[p("ffn.up.bias")].v)
				if a.FFN.Gated {
					gate := affine(rows, w[p("ffn.gate.weight")], w[p("ffn.gate.bias")].v)
					for i := range up {
						for j := range up[i] {
							up[i][j] *= act(a.FFN.Act, gate[i][j])
						}
					}
				} else {
					for i := range up {
						for j := range up[i] {
							up[i][j] = act(a.FFN.Act, up[i][j])
						}
					}
				}
				return affine(up, w[p("ffn.down.weight")], w[p("ffn.down.bias")].v)
			}
			switch {
			case a.ParallelResidual:
				f := ffn(norm(x, "ffn_norm"))
				for i := range x {
					addTo(x[i], attn[i])
					addTo(x[i], f[i])
				}
			case a.Norm.Pre:
				for i := range x {
					addTo(x[i], attn[i])
				}
				f := ffn(norm(x, "ffn_norm"))
				for i := range x {
					addTo(x[i], f[i])
				}
			default: // post-norm
				for i := range x {
					addTo(x[i], attn[i])
				}
				x = norm(x, "attn_norm")
				f := ffn(x)
				for i := range x {
					addTo(x[i], f[i])
				}
				x = norm(x, "ffn_norm")
			}
			norms[l+1][s] = rowNorms(x)
		}
	}
	var flat []float64
	for _, l := range norms {
		for _, s := range l {
			flat = append(flat, s...)
		}
	}
	return maps, flat
}

// mat is a row-major matrix ([in, out] for weights) or a vector (cols = len).
type mat struct {
	cols int
	v    []float64
}

func (m mat) row(i int) []float64 { return m.v[i*m.cols : (i+1)*m.cols] }

// affine is rows @ W + b (b may be nil).
func affine(rows [][]float64, w mat, b []float64) [][]float64 {
	out := make([][]float64, len(rows))
	for i, r := range rows {
		o := make([]float64, w.cols)
		copy(o, b)
		for k, xk := range r {
			for j, wkj := range w.row(k) {
				o[j] += xk * wkj
			}
		}
		out[i] = o
	}
	return out
}

// rope rotates pairs (i, i + rot/2) of each head by t * inv[i].
func rope(x [][]float64, heads, dh int, inv []float64) {
	half := len(inv)
	for t, r := range x {
		for h := range heads {
			base := h * dh
			for i, f := range inv {
				c, s := math.Cos(float64(t)*f), math.Sin(float64(t)*f)
				x1, x2 := r[base+i], r[base+i+half]
				r[base+i], r[base+i+half] = x1*c-x2*s, x2*c+x1*s
			}
		}
	}
}

// attention returns probs [head][query][key] and the concatenated head
// outputs [T][heads*dh].
func attention(q, k, v [][]float64, a hf.Arch) ([][][]float64, [][]float64) {
	T, dh, group := len(q), a.HeadDim, a.Heads/a.KVHeads
	probs := make([][][]float64, a.Heads)
	out := make([][]float64, T)
	for i := range out {
		out[i] = make([]float64, a.Heads*dh)
	}
	for h := range a.Heads {
		kvh := h / group
		probs[h] = make([][]float64, T)
		for i := range T {
			row := make([]float64, T)
			m := math.Inf(-1)
			for j := 0; j <= i; j++ {
				if a.SlidingWindow > 0 && i-j >= a.SlidingWindow {
					row[j] = math.Inf(-1)
					continue
				}
				dot := 0.0
				for d := range dh {
					dot += q[i][h*dh+d] * k[j][kvh*dh+d]
				}
				row[j] = dot / math.Sqrt(float64(dh))
				m = max(m, row[j])
			}
			sum := 0.0
			for j := 0; j <= i; j++ {
				row[j] = math.Exp(row[j] - m)
				sum += row[j]
			}
			for j := 0; j <= i; j++ {
				row[j] /= sum
				for d := range dh {
					out[i][h*dh+d] += row[j] * v[j][kvh*dh+d]
				}
			}
			probs[h][i] = row
		}
	}
	return probs, out
}

func normalize(n hf.Norm, x, w, b []float64) []float64 {
	out := make([]float64, len(x))
	d := float64(len(x))
	mean := 0.0
	if n.Kind == hf.LayerNorm {
		for _, v := range x {
			mean += v / d
		}
	}
	ms := 0.0
	for _, v := range x {
		ms += (v - mean) * (v - mean) / d
	}
	scale := 1 / math.Sqrt(ms+n.Eps)
	for i, v := range x {
		out[i] = (v - mean) * scale * w[i]
		if b != nil {
			out[i] += b[i]
		}
	}
	return out
}

func act(a hf.Act, x float64) float64 {
	switch a {
	case hf.GELU:
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case hf.GELUTanh:
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	case hf.ReLU:
		return max(x, 0)
	case hf.SiLU:
		return x / (1 + math.Exp(-x))
	}
	panic("unknown activation " + string(a))
}

func addTo(dst, src []float64) {
	for i := range dst {
		dst[i] += src[i]
	}
}

func rowNorms(x [][]float64) []float64 {
	out := make([]float64, len(x))
	for i, r := range x {
		s := 0.0
		for _, v := range r {
			s += v * v
		}
		out[i] = math.Sqrt(s)
	}
	return out
}
