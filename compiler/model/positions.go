package model

// Positional encodings other than RoPE (transformer.go) and masks.
//
//   - absolute: the fixed sinusoidal table of the paper's code (lit_gpt
//     model_pos.py), PE[t] = [sin(t·w_0..w_{D/2-1}), cos(t·w_0..w_{D/2-1})],
//     w_i = 10000^(-2i/D), added to the token embeddings; D must be even.
//   - learnable: a learned table [length, D] added to the token embeddings.
//   - alibi: bias -m_h·|t-s| on the scores (after the 1/sqrt(d_h) scale), the
//     slopes m_h of the ALiBi paper (Press et al. 2022): the geometric series
//     2^(-8h/H), h = 1..H, for H a power of two; otherwise the series of the
//     nearest lower power of two followed by every other slope of the next one.
//   - relative: T5's unidirectional buckets of the distance n = max(t-s, 0)
//     (exact below buckets/2, logarithmic up to max_distance, then the last
//     bucket) and a learned bias per bucket and head, shared by all layers as
//     in T5. (The paper's code adds the bucket index itself, not a learned
//     bias; sinkrun follows T5.)
//
// With the sink token, positions run over the extended sequence: the sink
// token is position 0 and token t is position t. A key-bias slot has no
// position: its column of the ALiBi / relative bias is 0.

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

// addPositions adds the absolute or learnable position embeddings to x [B,seq,D].
func (m *Model) addPositions(g *Graph, x *Node, seq int) *Node {
	D := m.cfg.DModel
	switch m.cfg.Position.Kind {
	case "absolute":
		return Add(x, Reshape(Const(g, sinusoidTable(seq, D)), 1, seq, D))
	case "learnable":
		rows, off := m.wpe.Shape().Dim(0), m.cfg.Position.Offset
		if seq+off > rows {
			panic(fmt.Errorf("model: learnable positions have %d rows, sequence needs %d (offset %d)", rows, seq+off, off))
		}
		return Add(x, Reshape(SliceAxis(m.wpe.NodeValue(g), 0, AxisRange(off, off+seq)), 1, seq, D))
	}
	return x
}

// sinusoidTable is the absolute position table [seq, D] (D even), row-major.
func sinusoidTable(seq, D int) []float32 {
	half := D / 2
	out := make([]float32, seq*D)
	for t := 0; t < seq; t++ {
		for i := 0; i < half; i++ {
			ang := float64(t) / math.Pow(10000, float64(2*i)/float64(D))
			out[t*D+i] = float32(math.Sin(ang))
			out[t*D+half+i] = float32(math.Cos(ang))
		}
	}
	return out
}

// alibiSlopes are the ALiBi head slopes m_1..m_H.
func alibiSlopes(H int) []float64 {
	pow2 := func(n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Pow(2, -8*float64(i+1)/float64(n))
		}
		return out
	}
	if H&(H-1) == 0 {
		return pow2(H)
	}
	p := 1
	for p*2 < H {
		p *= 2
	}
	out := pow2(p)
	next := pow2(2 * p)
	for i := 0; len(out) < H; i += 2 {
		out = append(out, next[i])
	}
	return out
}

// t5Bucket is T5's unidirectional relative-position bucket of distance n >= 0.
func t5Bucket(n, buckets, maxDistance int) int {
	maxExact := buckets / 2
	if n < maxExact {
		return n
	}
	b := maxExact + int(math.Log(float64(n)/float64(maxExact))/math.Log(float64(maxDistance)/float64(maxExact))*float64(buckets-maxExact))
	return min(b, buckets-1)
}

// positionBias is the ALiBi or relative-position bias [1,H,seq,cols] added to
// the scores; cols counts the key-bias slot (bias 0) then the positions.
func (m *Model) positionBias(g *Graph, lay *seqLayout) *Node {
	H, seq := m.cfg.Heads, lay.seq
	var bias *Node
	switch m.cfg.Position.Kind {
	case "alibi":
		slopes := alibiSlopes(H)
		vals := make([]float32, H*seq*seq)
		for h := 0; h < H; h++ {
			for t := 0; t < seq; t++ {
				for s := 0; s < seq; s++ {
					d := t - s
					if d < 0 {
						d = -d // keys after the query (prefix LM): same penalty per distance
					}
					vals[(h*seq+t)*seq+s] = float32(-slopes[h] * float64(d))
				}
			}
		}
		bias = Reshape(Const(g, vals), 1, H, seq, seq)
	case "relative":
		p := m.cfg.Position
		idx := make([]int32, seq*seq)
		for t := 0; t < seq; t++ {
			for s := 0; s < seq; s++ {
				idx[t*seq+s] = int32(t5Bucket(max(t-s, 0), p.Buckets, p.MaxDistance))
			}
		}
		b := Gather(m.relBias.NodeValue(g), Reshape(Const(g, idx), seq*seq, 1)) // [seq*seq, H]
		bias = Reshape(TransposeAllAxes(Reshape(b, seq, seq, H), 2, 0, 1), 1, H, seq, seq)
	default:
		return nil
	}
	if lay.keySlot {
		bias = Concatenate([]*Node{ZerosLike(SliceAxis(bias, 3, AxisRange(0, 1))), bias}, 3)
	}
	return bias
}

// attnMask holds an attention mask in the two forms ops use.
type attnMask struct {
	allowed *Node // bool [1,1,rows,cols], true where the key is visible
	neg     *Node // float32 [1,1,rows,cols], 0 where allowed, negBig elsewhere
}

func newMask(g *Graph, rows, cols int, visible func(r, c int) bool) attnMask {
	allowed := make([]bool, rows*cols)
	neg := make([]float32, rows*cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			if visible(r, c) {
				allowed[r*cols+c] = true
			} else {
				neg[r*cols+c] = negBig
			}
		}
	}
	return attnMask{
		allowed: Reshape(Const(g, allowed), 1, 1, rows, cols),
		neg:     Reshape(Const(g, neg), 1, 1, rows, cols),
	}
}

// newMasks builds each layer's mask over the layout's rows (residual
// positions) and columns (key-bias slot, then residual positions). Slots —
// the key-bias column and the sink token — are visible to every query; the
// sink token's own query sees only itself.
func (m *Model) newMasks(g *Graph, lay *seqLayout) []attnMask {
	cols := lay.seq
	if lay.keySlot {
		cols++
	}
	build := func(layer int) attnMask {
		return newMask(g, lay.seq, cols, func(r, c int) bool {
			if lay.keySlot {
				if c == 0 {
					return true
				}
				c--
			}
			if lay.off == 1 {
				if c == 0 {
					return true
				}
				if r == 0 {
					return false
				}
				r, c = r-1, c-1
			}
			return m.visible(layer, r, c)
		})
	}
	masks := make([]attnMask, len(m.blocks))
	first := build(0)
	var second attnMask
	if mk := m.cfg.Mask; mk.Kind == "shifted_window" && mk.Shift > 0 && len(masks) > 1 {
		second = build(1)
	}
	for l := range masks {
		masks[l] = first
		if l%2 == 1 && second.allowed != nil {
			masks[l] = second
		}
	}
	return masks
}

// documentMasks narrows each layer's mask to the query's own document
// (model.DocumentMask): a document starts at every DocumentToken in tokens
// [B,T] (the token belongs to the document it starts) and at the sequence's
// start, so token s is visible to query t only if no DocumentToken lies in
// s+1..t. Slots (the key-bias column, the sink token) stay visible to every
// query. The masks become [B,1,rows,cols].
func (m *Model) documentMasks(tokens *Node, lay *seqLayout, masks []attnMask) []attnMask {
	g := tokens.Graph()
	B := tokens.Shape().Dim(0)
	// doc[b,t]: the number of document starts at or before t; two tokens
	// share a document when their counts are equal (float32: exact here).
	starts := ConvertDType(Equal(tokens, Scalar(g, tokens.DType(), m.cfg.DocumentToken)), dtypes.Float32)
	doc := CumSum(starts, 1) // [B,T]
	if lay.off == 1 {
		// The sink token (position 0) is a document of its own (-1): its
		// query sees only itself.
		doc = Concatenate([]*Node{BroadcastToDims(Scalar(g, dtypes.Float32, -1), B, 1), doc}, 1)
	}
	rows, cols := BroadcastToDims(InsertAxes(doc, 1, -1), B, 1, lay.seq, lay.seq), BroadcastToDims(InsertAxes(doc, 1, 1), B, 1, lay.seq, lay.seq)
	same := Equal(rows, cols) // [B,1,seq,seq]
	always := Ones(g, shapes.Make(dtypes.Bool, B, 1, lay.seq, 1))
	if lay.off == 1 {
		// Every query sees the sink token's column.
		same = Concatenate([]*Node{always, SliceAxis(same, 3, AxisRange(1, lay.seq))}, 3)
	}
	if lay.keySlot {
		same = Concatenate([]*Node{always, same}, 3) // the key-bias column
	}
	out := make([]attnMask, len(masks))
	narrowed := map[*Node]attnMask{}
	for l, mk := range masks {
		if n, ok := narrowed[mk.allowed]; ok {
			out[l] = n
			continue
		}
		allowed := LogicalAnd(BroadcastToShape(mk.allowed, same.Shape()), same)
		n := attnMask{allowed: allowed, neg: Where(allowed, ScalarZero(g, dtypes.Float32), Scalar(g, dtypes.Float32, negBig))}
		narrowed[mk.allowed], out[l] = n, n
	}
	return out
}

// Documents is the document index of each token of sequences [n][T]
// (row-major) under model.DocumentMask, as the graph computes it: the number
// of DocumentTokens at or before the token. Two tokens of a sequence see each
// other only when their indices are equal. Nil without a document mask.
func (m *Model) Documents(tokens []int32, n, T int) []int32 {
	if !m.cfg.DocumentMask {
		return nil
	}
	out := make([]int32, n*T)
	for i := range n {
		d := int32(0)
		for t := range T {
			if tokens[i*T+t] == int32(m.cfg.DocumentToken) {
				d++
			}
			out[i*T+t] = d
		}
	}
	return out
}

// visible reports whether token k is visible to query token q (0-based) in a
// layer, under the configured mask:
//
//	causal          k <= q
//	window(w)       q-w < k <= q
//	shifted_window  k <= q in the same block of w positions; blocks start at
//	                0, w, 2w, ... in even layers (0-based) and at 0, s, s+w,
//	                s+2w, ... in odd layers (shift s)
//	prefix(p)       k <= q, or k < p
func (m *Model) visible(layer, q, k int) bool {
	mk := m.cfg.Mask
	switch mk.Kind {
	case "window":
		return k <= q && k > q-mk.Size
	case "shifted_window":
		shift := 0
		if layer%2 == 1 {
			shift = mk.Shift
		}
		return k <= q && (q+mk.Size-shift)/mk.Size == (k+mk.Size-shift)/mk.Size
	case "prefix":
		return k <= q || k < mk.Size
	}
	return k <= q
}

// probeVisible is the visibility of the probe's attention columns (slot,
// then tokens) to the token queries of a layer, [T][Slots+T] row-major.
func (m *Model) probeVisible(layer, T int) []bool {
	slots := m.Slots()
	S := slots + T
	out := make([]bool, T*S)
	for q := 0; q < T; q++ {
		for c := 0; c < S; c++ {
			out[q*S+c] = c < slots || m.visible(layer, q, c-slots)
		}
	}
	return out
}

// lossSkip is the number of leading predictions the loss ignores: p-1 for a
// prefix LM of p tokens (the predictions of prefix tokens), else 0.
func (m *Model) lossSkip() int {
	if m.cfg.Mask.Kind == "prefix" {
		return m.cfg.Mask.Size - 1
	}
	return 0
}
