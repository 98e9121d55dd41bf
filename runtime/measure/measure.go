// Package measure computes the attention-sink metrics of the metric
// catalogue (config.Metrics; definitions in docs/metrics.md) from the tensors
// of a probe pass: per-head token scores alpha_k, Sink_k^eps, proxy scores on
// row-normalised maps, and massive-activation ratios.
//
// Positions: k is 1-based wherever it appears in the API (SinkScore.K,
// HeadAlpha.K, Options.Ks), as in the formulas; layers and heads are 0-based.
// Tensors are flat, row-major float32 slices.
package measure

import (
	"fmt"
	"math"
	"slices"

	"github.com/sinkrun/sinkrun/config"
)

// ProxyKind says how attention rows are normalised before scoring.
type ProxyKind int

const (
	// ProxyNone scores the maps as they are (rows already sum to 1).
	ProxyNone ProxyKind = iota
	// ProxySum divides each row by its causal sum plus 1e-8: for sigmoid and
	// elu+1 similarities, s_ij / (sum_{j'<=i} s_ij' + 1e-8).
	ProxySum
	// ProxyAbsSum divides absolute values by the causal sum of absolute
	// values: for identity and MLP kernels, |s_ij| / sum_{j'<=i} |s_ij'|.
	// A row whose absolute sum is 0 stays 0.
	ProxyAbsSum
)

func (k ProxyKind) String() string {
	switch k {
	case ProxyNone:
		return "none"
	case ProxySum:
		return "sum"
	case ProxyAbsSum:
		return "abs_sum"
	}
	return fmt.Sprintf("ProxyKind(%d)", int(k))
}

// ProxyFor is the proxy normalisation (docs/metrics.md#proxy) of an
// attention op, the rule of its entry in the architecture catalogue
// (config.AttentionOp.Proxy): ProxySum or ProxyAbsSum for ops whose rows need
// not sum to 1 (sigmoid with Z=1, ...), ProxyNone otherwise.
func ProxyFor(a config.Attention) ProxyKind {
	switch a.ProxyNorm() {
	case config.ProxySum:
		return ProxySum
	case config.ProxyAbsSum:
		return ProxyAbsSum
	}
	return ProxyNone
}

// NormalizeRows returns a row-normalised copy of attention weights shaped
// [n][h][T][T] (rows = queries). Only the causal part (key j <= query i) is
// read; entries above the diagonal are 0 in the result. Sums are taken in
// float64. ProxyNone returns an unchanged copy (upper triangle included).
func NormalizeRows(weights []float32, n, h, T int, kind ProxyKind) []float32 {
	return normalizeRows(weights, n, h, T, 0, nil, kind)
}

// normalizeRows is NormalizeRows for maps of width slots+T whose visible
// entries are given by vis ([T][slots+T]; nil means causal, slots always
// visible). Only visible entries enter a row's sum; the rest come out 0.
func normalizeRows(weights []float32, n, h, T, slots int, vis []bool, kind ProxyKind) []float32 {
	S := slots + T
	out := make([]float32, len(weights))
	if kind == ProxyNone {
		copy(out, weights)
		return out
	}
	for m := range n * h {
		for i := range T {
			row := weights[(m*T+i)*S : (m*T+i+1)*S]
			dst := out[(m*T+i)*S : (m*T+i+1)*S]
			sum := 0.0
			for j, v := range row {
				if !visible(vis, S, slots, i, j) {
					continue
				}
				if kind == ProxyAbsSum {
					sum += math.Abs(float64(v))
				} else {
					sum += float64(v)
				}
			}
			if kind == ProxyAbsSum && sum == 0 {
				continue
			}
			for j, v := range row {
				if !visible(vis, S, slots, i, j) {
					continue
				}
				if kind == ProxyAbsSum {
					dst[j] = float32(math.Abs(float64(v)) / sum)
				} else {
					dst[j] = float32(float64(v) / (sum + 1e-8))
				}
			}
		}
	}
	return out
}

// visible reports whether query i sees column j of a map with the given
// number of slot columns: from vis when given, else causally.
func visible(vis []bool, S, slots, i, j int) bool {
	if vis != nil {
		return vis[i*S+j]
	}
	return j < slots || j-slots <= i
}

// Alpha is alpha_k of one T×T attention map (row-major, rows = queries),
// k 1-based: 1/(T-k+1) * sum_{t=k..T} A_{t,k}, the mean attention token k
// receives from the queries that can see it.
func Alpha(m []float32, T, k int) float64 {
	return alphaColumn(m, T, 0, nil, k-1)
}

// alphaColumn is the mean attention that column c of one [T][slots+T] map
// receives from the queries that can see it (alpha_k of docs/metrics.md;
// for a slot column, every query sees it).
func alphaColumn(m []float32, T, slots int, vis []bool, c int) float64 {
	S := slots + T
	sum, seen := 0.0, 0
	for t := range T {
		if visible(vis, S, slots, t, c) {
			sum += float64(m[t*S+c])
			seen++
		}
	}
	if seen == 0 {
		return 0
	}
	return sum / float64(seen)
}

// Probe holds the tensors of one probe pass over N sequences of T tokens.
type Probe struct {
	N, T, Layers, Heads int
	// Slots is the number of slot columns (learnable key bias, KV bias, sink
	// token, sink logit) before token 1 in every attention row: maps are
	// [N][H][T][Slots+T] and column 0 is the slot. Its score is Sink* (K = 0).
	Slots int
	// Visible, per layer, is [T][Slots+T] row-major: true where a query sees
	// a column. nil means causal. Window and prefix masks need it so that
	// alpha averages over "the queries that can see" the token.
	Visible [][]bool
	// Documents, when not nil, is each token's document index, [N][T]
	// row-major, under a document mask (data.document_attention within): a
	// token column is visible to a query only if Visible says so and both
	// tokens have the same index, so alpha_k averages over the queries of
	// token k's document. nil: one document.
	Documents []int32
	// Attention[l] is layer l's attention weights, [N][Heads][T][T].
	Attention [][]float32
	// Hidden[l] is the L2 norm of layer l's output hidden state, [N][T].
	// Optional: nil or one entry per layer.
	Hidden [][]float32
	// Keys[l] and Values[l] are the L2 norms of layer l's (post-RoPE) keys
	// and values, [N][Heads][T]. Optional: nil or one entry per layer.
	Keys, Values [][]float32
}

// Options selects what Analyze reports.
type Options struct {
	// Eps are the thresholds of Sink_k^eps (strict >). Empty means [0.3].
	Eps []float64
	// Ks are 1-based positions; 1 is added in front if missing, duplicates
	// are dropped.
	Ks []int
	// Proxy normalises the maps first; scores are then flagged Proxy.
	Proxy ProxyKind
}

// OptionsFor is the Options a run's settings ask for: measure.eps; the
// positions of config.MeasuredPositions (1, measure.sink, and where they lie
// within the probe the position of data.fixed_token and the first position
// after data.random_tokens' span); and the proxy normalisation of the run's
// attention op (ProxyFor).
func OptionsFor(r config.Run) Options {
	return Options{Eps: slices.Clone(r.Measure.Eps), Ks: config.MeasuredPositions(r), Proxy: ProxyFor(r.Model.Attention)}
}

// SinkScore is Sink_K^Eps in percent. K = 0 is the slot column of models
// with a key bias, KV bias, sink token or sink logit (the paper's Sink*).
type SinkScore struct {
	K       int
	Eps     float64
	Percent float64
	Proxy   bool
}

// HeadAlpha is alpha_K of one head, averaged over the probe sequences, and
// the percentage of sequences in which that head's alpha_K exceeds the first
// eps of Options.
type HeadAlpha struct {
	Layer, Head, K int
	Alpha          float64
	SinkPercent    float64
	Proxy          bool
}

// LayerRatio is the massive-activation ratio of one layer: the first token's
// norm over the mean norm of the other tokens, for the layer's output hidden
// state, keys and values. A ratio whose input was not given is NaN.
type LayerRatio struct {
	Layer              int
	Hidden, Key, Value float64
}

// Report is what Analyze measures on one probe pass.
type Report struct {
	// Sink has one entry per k × eps, k-major, in the order of the
	// (normalised) Options.Ks and Options.Eps.
	Sink []SinkScore
	// HeadAlpha has one entry per layer, head and k, in that nesting order.
	HeadAlpha []HeadAlpha
	// MeanAlpha1 is alpha_1 averaged over sequences, layers and heads.
	MeanAlpha1 float64
	// Massive has one entry per layer when any of Hidden, Keys, Values was
	// given; nil otherwise.
	Massive []LayerRatio
	// Proxy: the maps were row-normalised first (Options.Proxy).
	Proxy bool
}

// Values are the report's values of the metric catalogue's metrics table
// (config.MetricSink, config.MetricMeanAlpha and the massive_* ratios), in
// the order they are recorded: Sink as it is ordered, mean alpha_1, then
// each layer's hidden, key and value ratios. (HeadAlpha goes to the heads
// table.)
func (r Report) Values() []config.MetricValue {
	var out []config.MetricValue
	for _, s := range r.Sink {
		out = append(out, config.MetricValue{Metric: config.MetricSink,
			At: config.Point{config.CoordK: s.K, config.CoordEps: s.Eps}, Value: s.Percent, Proxy: s.Proxy})
	}
	out = append(out, config.MetricValue{Metric: config.MetricMeanAlpha, At: config.Point{config.CoordK: 1}, Value: r.MeanAlpha1, Proxy: r.Proxy})
	for _, l := range r.Massive {
		at := func() config.Point { return config.Point{config.CoordLayer: l.Layer} }
		out = append(out,
			config.MetricValue{Metric: config.MetricMassiveHidden, At: at(), Value: l.Hidden},
			config.MetricValue{Metric: config.MetricMassiveKey, At: at(), Value: l.Key},
			config.MetricValue{Metric: config.MetricMassiveValue, At: at(), Value: l.Value})
	}
	return out
}

// Analyze computes the metrics of docs/metrics.md on a probe pass. It checks every shape
// and returns an error, never panics, on a mismatch.
//
// Sink_k^eps is the percentage of (sequence, layer, head) triples whose
// per-sequence alpha_k is strictly above eps. Massive-activation ratios are
// computed per sequence (and, for keys and values, per head) and then
// averaged: hidden over sequences; keys and values over sequences and heads
// with equal weight.
func Analyze(p Probe, o Options) (Report, error) {
	if err := validate(p); err != nil {
		return Report{}, err
	}
	eps := o.Eps
	if len(eps) == 0 {
		eps = []float64{0.3}
	}
	for _, e := range eps {
		if math.IsNaN(e) || math.IsInf(e, 0) {
			return Report{}, fmt.Errorf("measure: eps %v is not a finite number", e)
		}
	}
	ks := []int{1}
	for _, k := range o.Ks {
		if k < 1 || k > p.T {
			return Report{}, fmt.Errorf("measure: sink position k=%d outside 1..%d (probe length)", k, p.T)
		}
		if !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	switch o.Proxy {
	case ProxyNone, ProxySum, ProxyAbsSum:
	default:
		return Report{}, fmt.Errorf("measure: unknown proxy kind %d", int(o.Proxy))
	}
	if p.Slots > 0 {
		ks = append(ks, 0) // K = 0 is the slot: its score is the paper's Sink*
	}
	proxy := o.Proxy != ProxyNone
	N, T, L, H, K := p.N, p.T, p.Layers, p.Heads, len(ks)

	// alpha[((l*H+h)*K+ki)*N+n]
	S := p.Slots + T
	alpha := make([]float64, L*H*K*N)
	for l, w := range p.Attention {
		var layerVis []bool
		if len(p.Visible) > 0 {
			layerVis = p.Visible[l]
		}
		for n := range N {
			vis := layerVis
			if p.Documents != nil {
				vis = documentVisible(layerVis, p.Documents[n*T:(n+1)*T], T, p.Slots)
			}
			seq := w[n*H*T*S : (n+1)*H*T*S]
			if proxy {
				seq = normalizeRows(seq, 1, H, T, p.Slots, vis, o.Proxy)
			}
			for h := range H {
				m := seq[h*T*S : (h+1)*T*S]
				for ki, k := range ks {
					c := p.Slots + k - 1 // token k's column
					if k == 0 {
						c = 0 // the slot
					}
					alpha[((l*H+h)*K+ki)*N+n] = alphaColumn(m, T, p.Slots, vis, c)
				}
			}
		}
	}

	r := Report{Proxy: proxy}
	for ki, k := range ks {
		for _, e := range eps {
			count := 0
			for l := range L {
				for h := range H {
					for _, a := range alpha[((l*H+h)*K+ki)*N : ((l*H+h)*K+ki+1)*N] {
						if a > e {
							count++
						}
					}
				}
			}
			r.Sink = append(r.Sink, SinkScore{K: k, Eps: e, Percent: 100 * float64(count) / float64(N*L*H), Proxy: proxy})
		}
	}
	sum1 := 0.0
	for l := range L {
		for h := range H {
			for ki, k := range ks {
				seqs := alpha[((l*H+h)*K+ki)*N : ((l*H+h)*K+ki+1)*N]
				s, count := 0.0, 0
				for _, a := range seqs {
					s += a
					if a > eps[0] {
						count++
					}
				}
				if ki == 0 {
					sum1 += s
				}
				r.HeadAlpha = append(r.HeadAlpha, HeadAlpha{
					Layer: l, Head: h, K: k,
					Alpha:       s / float64(N),
					SinkPercent: 100 * float64(count) / float64(N),
					Proxy:       proxy,
				})
			}
		}
	}
	r.MeanAlpha1 = sum1 / float64(N*L*H)

	if len(p.Hidden) > 0 || len(p.Keys) > 0 || len(p.Values) > 0 {
		r.Massive = make([]LayerRatio, L)
		for l := range L {
			r.Massive[l] = LayerRatio{
				Layer:  l,
				Hidden: meanFirstRatio(p.Hidden, l, N, T),
				Key:    meanFirstRatio(p.Keys, l, N*H, T),
				Value:  meanFirstRatio(p.Values, l, N*H, T),
			}
		}
	}
	return r, nil
}

// documentVisible is the visibility of one sequence's columns to its
// queries ([T][slots+T]) under a document mask: vis (nil: causal) narrowed
// to the token columns of the query's own document (docs [T]); slot columns
// stay visible.
func documentVisible(vis []bool, docs []int32, T, slots int) []bool {
	S := slots + T
	out := make([]bool, T*S)
	for i := range T {
		for j := range S {
			out[i*S+j] = visible(vis, S, slots, i, j) && (j < slots || docs[j-slots] == docs[i])
		}
	}
	return out
}

// meanFirstRatio averages, over the rows of norms[l] (rows × T), the ratio
// row[0] / mean(row[1:]). It is NaN when norms is empty.
func meanFirstRatio(norms [][]float32, l, rows, T int) float64 {
	if len(norms) == 0 {
		return math.NaN()
	}
	total := 0.0
	for i := range rows {
		row := norms[l][i*T : (i+1)*T]
		rest := 0.0
		for _, v := range row[1:] {
			rest += float64(v)
		}
		total += float64(row[0]) / (rest / float64(T-1))
	}
	return total / float64(rows)
}

func validate(p Probe) error {
	if p.N < 1 || p.T < 1 || p.Layers < 1 || p.Heads < 1 {
		return fmt.Errorf("measure: probe shape N=%d T=%d layers=%d heads=%d: all must be positive", p.N, p.T, p.Layers, p.Heads)
	}
	if len(p.Attention) != p.Layers {
		return fmt.Errorf("measure: %d attention maps for %d layers", len(p.Attention), p.Layers)
	}
	check := func(name string, ts [][]float32, want int, shape string, optional bool) error {
		if optional && len(ts) == 0 {
			return nil
		}
		if len(ts) != p.Layers {
			return fmt.Errorf("measure: %s has %d layers, want %d", name, len(ts), p.Layers)
		}
		for l, t := range ts {
			if len(t) != want {
				return fmt.Errorf("measure: %s[%d] has %d values, want %s = %d", name, l, len(t), shape, want)
			}
		}
		return nil
	}
	nht := p.N * p.Heads * p.T
	if p.Slots < 0 {
		return fmt.Errorf("measure: %d slot columns", p.Slots)
	}
	if len(p.Visible) != 0 {
		if len(p.Visible) != p.Layers {
			return fmt.Errorf("measure: visibility masks for %d layers, want %d", len(p.Visible), p.Layers)
		}
		for l, v := range p.Visible {
			if len(v) != p.T*(p.Slots+p.T) {
				return fmt.Errorf("measure: visibility mask %d has %d values, want T*(slots+T) = %d", l, len(v), p.T*(p.Slots+p.T))
			}
		}
	}
	if p.Documents != nil && len(p.Documents) != p.N*p.T {
		return fmt.Errorf("measure: %d document indices, want N*T = %d", len(p.Documents), p.N*p.T)
	}
	if err := check("attention", p.Attention, nht*(p.Slots+p.T), "N*heads*T*(slots+T)", false); err != nil {
		return err
	}
	if err := check("hidden norms", p.Hidden, p.N*p.T, "N*T", true); err != nil {
		return err
	}
	if err := check("key norms", p.Keys, nht, "N*heads*T", true); err != nil {
		return err
	}
	return check("value norms", p.Values, nht, "N*heads*T", true)
}
