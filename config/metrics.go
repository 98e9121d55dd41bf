package config

import (
	"fmt"
	"slices"
)

// Metric names that code refers to (the trainer records the losses and the
// learning rate; results and plots read some metrics by name).
const (
	MetricValLoss       = "val_loss"
	MetricTrainLoss     = "train_loss"
	MetricSink          = "sink"
	MetricMeanAlpha     = "mean_alpha"
	MetricHeadAlpha     = "alpha"
	MetricHeadSink      = "sink_percent"
	MetricMassiveHidden = "massive_hidden"
	MetricMassiveKey    = "massive_key"
	MetricMassiveValue  = "massive_value"
	MetricLR            = "lr"
)

// The catalogue, in documentation order. The final columns of the runs
// table follow this order too, so an entry with final columns goes where
// its columns should.
var metrics = []Metric{
	{
		Name:  MetricValLoss,
		Title: "validation loss",
		Doc: "The mean next-token cross-entropy on held-out data: `measure.val_batches` batches of " +
			"`train.batch` sequences of `data.context` tokens that training never sees. Each batch's loss is " +
			"the mean over its predicted tokens (with `mask prefix(size: p)`, the first p − 1 predictions, which " +
			"lie inside the prefix, are left out, as in training); the metric is the mean over the batches.",
		Unit:    "nats per token",
		Table:   MetricsTable,
		Cadence: AtMeasurement,
		Final: []FinalColumn{{
			Name:    "final_val_loss",
			Doc:     "validation loss at the last measurement (nats per token)",
			Summary: &SummaryColumn{Header: "val loss", CSV: "val_loss", Prec: 3},
		}},
		Claims: []ClaimName{{Name: "val_loss", Doc: "validation loss, nats per token"}},
	},
	{
		Name:  MetricTrainLoss,
		Title: "training loss",
		Doc: "The mean next-token cross-entropy of the batch a training step trains on, computed by the " +
			"step's forward pass, before its update. Recorded after every step (the value of step s is the " +
			"loss of the s-th batch); a NaN or infinite value ends the run as diverged.",
		Unit:    "nats per token",
		Table:   MetricsTable,
		Cadence: EveryStep,
		Final: []FinalColumn{{
			Name: "final_train_loss",
			Doc:  "training loss of the last step",
		}},
		Claims: []ClaimName{{Name: "train_loss", Doc: "training loss of the last step"}},
	},
	{
		Name:  MetricSink,
		Title: "Sink_k^eps",
		Doc: "The share of attention heads that park attention on token k, in %: the percentage of " +
			"(probe sequence, layer, head) triples whose [alpha_k](#alpha_k) on that one sequence is strictly " +
			"greater than eps. The comparison is made per sequence and the indicators are then averaged over " +
			"the probe sequences, the layers and the heads. It is measured at every position k of " +
			"`measure.sink` (and at 1, at `data.fixed_token`'s position and at the first position after " +
			"`data.random_tokens`' span, when those lie within the probe), at every eps of `measure.eps`, and " +
			"at k = 0 for models with a [slot](#slot): that value is the slot's score, Sink*.",
		Unit:    "%",
		Table:   MetricsTable,
		Coords:  []string{CoordK, CoordEps},
		Cadence: AtMeasurement,
		Proxy:   true,
		Final: []FinalColumn{
			{
				Name: "final_sink1", Doc: "Sink_1 in % at the first eps of `measure_eps`, last measurement",
				At: Point{CoordK: 1}, First: []string{CoordEps}, ProxyColumn: "final_sink1_is_proxy",
				Summary: &SummaryColumn{Header: "Sink_1 %", CSV: "sink1", Prec: 2, SD: true, EpsInHeader: true,
					EveryK: &EveryKColumns{Header: "Sink_%d %%", CSV: "sink%d"}},
			},
			{
				Name: "final_sink_slot",
				Doc: "Sink* in %: the score of the slot column (learnable key bias, KV bias, sink token or sink logit, " +
					"`model.bias`) at the first eps, last measurement; the metric `sink` with `k` = 0. NULL when the " +
					"model has no slot (and in files before the column)",
				At: Point{CoordK: 0}, First: []string{CoordEps}, ProxyColumn: "final_sink1_is_proxy", AddedLater: true,
				Summary: &SummaryColumn{Header: "Sink* %", CSV: "sink_slot", Prec: 2, SD: true},
			},
		},
		Claims: []ClaimName{
			{
				Name: "sink_K", NameCoord: CoordK, NameWhat: "a position",
				Doc: "Sink_K^eps in %: the share of (probe sequence, layer, head) with alpha_K > eps, for a measured position K " +
					"(1, `measure.sink`, `data.fixed_token`'s position, the position after `data.random_tokens`' span); " +
					"eps is the first of `measure.eps` unless written: `sink_2(eps: 0.5)`",
				Args: []ClaimArg{epsArg},
				Check: func(r Run, at Point, run string) string {
					if k, _ := at.Int(CoordK); !slices.Contains(MeasuredPositions(r), k) {
						return fmt.Sprintf("Sink_%d is not measured by %s; add %d to measure { sink [...] }", k, run, k)
					}
					return ""
				},
			},
			{
				Name: "sink_star", At: Point{CoordK: 0},
				Doc: "Sink* in %: the score of the slot column (key bias, KV bias, sink token, sink logit); " +
					"only for runs whose model has one; `sink_star(eps: 0.5)` as for sink_K",
				Args: []ClaimArg{epsArg},
				Check: func(r Run, _ Point, run string) string {
					if r.Model.Slots() == 0 {
						return fmt.Sprintf("%s has no slot column (a key bias, KV bias, sink token or sink logit), so no Sink*", run)
					}
					return ""
				},
			},
		},
	},
	{
		Name:  MetricMeanAlpha,
		Title: "mean alpha_1",
		Doc: "[alpha_1](#alpha_k), the attention the first token receives, averaged over the probe sequences, " +
			"the layers and the heads (a plain mean of every sequence's, layer's and head's alpha_1). " +
			"Recorded with `k` = 1.",
		Unit:    "attention weight (0 to 1)",
		Table:   MetricsTable,
		Coords:  []string{CoordK},
		Cadence: AtMeasurement,
		Proxy:   true,
		Final: []FinalColumn{{
			Name: "final_mean_alpha1", Doc: "alpha_1 averaged over probe sequences, layers and heads",
			At:      Point{CoordK: 1},
			Summary: &SummaryColumn{Header: "alpha_1", CSV: "mean_alpha1", Prec: 3},
		}},
		Claims: []ClaimName{{Name: "alpha_1", At: Point{CoordK: 1},
			Doc: "alpha_1, the first token's attention, averaged over probe sequences, layers and heads"}},
	},
	{
		Name:  MetricHeadAlpha,
		Title: "per-head alpha_k",
		Doc: "One head's [alpha_k](#alpha_k), averaged over the probe sequences: for every layer, head and " +
			"position k of [Sink_k](#sink) (k = 0: the slot). The data of the layer × head heat maps.",
		Unit:    "attention weight (0 to 1)",
		Table:   HeadsTable,
		Coords:  []string{CoordLayer, CoordHead, CoordK},
		Cadence: AtMeasurement,
		Proxy:   true,
	},
	{
		Name:  MetricHeadSink,
		Title: "per-head Sink_k",
		Doc: "One head's share of probe sequences, in %, in which its [alpha_k](#alpha_k) on that sequence is " +
			"strictly greater than the **first** eps of `measure.eps`: for every layer, head and position k " +
			"of [Sink_k](#sink) (k = 0: the slot). Averaged over the layers and heads it is Sink_k at that eps.",
		Unit:    "%",
		Table:   HeadsTable,
		Coords:  []string{CoordLayer, CoordHead, CoordK},
		Cadence: AtMeasurement,
		Proxy:   true,
	},
	{
		Name:  MetricMassiveHidden,
		Title: "massive activation (hidden state)",
		Doc: "How much larger the first token's hidden state is than the others', at one layer: the L2 norm of " +
			"token 1's hidden state at the layer's output (the residual stream after the block) over the mean " +
			"L2 norm of tokens 2..T's, computed on each probe sequence and averaged over the probe sequences. " +
			"One value per layer.",
		Unit:    "norm ratio",
		Table:   MetricsTable,
		Coords:  []string{CoordLayer},
		Cadence: AtMeasurement,
		Final: []FinalColumn{{
			Name: "final_massive", Doc: "the largest hidden-state massive-activation ratio over layers",
			Over:    Max,
			Summary: &SummaryColumn{Header: "massive", CSV: "massive", Prec: 1},
		}},
		Claims: []ClaimName{{Name: "massive", Over: Max,
			Doc: "the first token's hidden-state norm over the other tokens' mean, largest over layers"}},
	},
	{
		Name:  MetricMassiveKey,
		Title: "massive activation (keys)",
		Doc: "The ratio of [massive_hidden](#massive_hidden) for the layer's keys: token 1's key norm over the " +
			"mean key norm of tokens 2..T, per probe sequence and head (keys after the rotary embedding, " +
			"where there is one), averaged over the sequences and heads with equal weight. One value per layer.",
		Unit:    "norm ratio",
		Table:   MetricsTable,
		Coords:  []string{CoordLayer},
		Cadence: AtMeasurement,
		Claims:  []ClaimName{{Name: "massive_key", Over: Max, Doc: "the same ratio for keys"}},
	},
	{
		Name:  MetricMassiveValue,
		Title: "massive activation (values)",
		Doc: "The same ratio as [massive_key](#massive_key) for the layer's values: token 1's value norm over " +
			"the mean value norm of tokens 2..T, per probe sequence and head, averaged over both. One value per layer.",
		Unit:    "norm ratio",
		Table:   MetricsTable,
		Coords:  []string{CoordLayer},
		Cadence: AtMeasurement,
		Claims:  []ClaimName{{Name: "massive_value", Over: Max, Doc: "the same ratio for values"}},
	},
	{
		Name:  MetricLR,
		Title: "learning rate",
		Doc: "The learning rate of a training step's update: `train.optimizer`'s lr under `train.schedule` " +
			"(warmup, then constant, cosine or linear decay). Recorded after every step.",
		Unit:    "step size (as train.optimizer's lr)",
		Table:   MetricsTable,
		Cadence: EveryStep,
	},
}

// epsArg is the eps argument of the sink scores' claim names.
var epsArg = ClaimArg{
	Coord:    CoordEps,
	Doc:      "a threshold of `measure.eps`; the first by default",
	Measured: func(r Run) []any { return anys(r.Measure.Eps) },
	Setting:  "measure.eps",
	What:     "sink score",
}

// MeasuredPositions are the positions k whose Sink_k a run reports, in
// order: 1, measure.sink, and, when they lie within the probe, the position of
// data.fixed_token (where the paper's fixed-token study finds the sink) and
// the first position after data.random_tokens' span (where a sink pushed off
// randomised positions would land).
func MeasuredPositions(r Run) []int {
	ks := []int{1}
	add := func(k int) {
		if k >= 1 && k <= r.Measure.ProbeLength && !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	for _, k := range r.Measure.Sink {
		add(k)
	}
	if ft := r.Data.FixedToken; ft.Kind == "fixed" {
		add(ft.Position)
	}
	if rt := r.Data.RandomTokens; rt.Kind == "span" {
		add(rt.To)
	}
	return ks
}

// anys converts a list to []any.
func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// metricDefinition is a notion the metrics' definitions share, for
// docs/metrics.md (anchor: its id there).
type metricDefinition struct {
	Anchor, Title, Doc string
}

// definitions are the notions the metrics build on, in reading order.
var definitions = []metricDefinition{
	{
		Anchor: "probe", Title: "The probe set",
		Doc: "Attention metrics are measured on a fixed set of held-out **probe sequences**: " +
			"`measure.probe_sequences` sequences (100 by default) of `measure.probe_length` tokens (T, 64 by " +
			"default), drawn once per run from what `measure.probe` names (held-out natural text by default, " +
			"or random or repeated tokens) and never trained on. Nothing is prepended: a first token is there " +
			"only when the data places one (`data.first_token`). The same sequences are scored at every " +
			"measurement: at step 0 (the untrained model), every `measure.every` steps, and after the last step.",
	},
	{
		Anchor: "alpha_k", Title: "Attention maps and alpha_k",
		Doc: "For one probe sequence, layer l and head h, the **attention map** A is the T × T matrix of the " +
			"weights with which each query (row t) mixes the values of the keys (column j), exactly as the " +
			"attention op produced them. Positions count from 1 here (the tables count layers, heads and the " +
			"maps' rows and columns from 0).\n\n" +
			"**alpha_k** is the mean weight that token k receives from the queries that can see it:\n\n" +
			"    alpha_k = (1 / |Q_k|) · Σ_{t ∈ Q_k} A[t, k]\n\n" +
			"where Q_k is the set of queries that see key k. With the causal mask these are the queries " +
			"t = k, ..., T, so |Q_k| = T − k + 1; with a sliding window, a shifted window or a prefix mask, Q_k " +
			"is whatever the mask lets see token k. alpha_k is computed separately for every probe sequence, " +
			"layer and head; the metrics below then count or average those values.",
	},
	{
		Anchor: "proxy", Title: "Proxy scores: ops whose rows need not sum to 1",
		Doc: "alpha_k compares a token's share of attention with a threshold, which presumes that each row of A " +
			"sums to 1. Some attention ops do not normalise their rows (sigmoid or elu+1 similarities without " +
			"normalisation, linear attention, a mass scale other than 1, softmax1, softpick). For them, every " +
			"row is first normalised over the entries its query can see (slot columns included), and alpha_k, " +
			"Sink_k and the other attention metrics are computed on the normalised maps. Such values are " +
			"**proxy scores**: the tables flag them (`is_proxy`, `final_sink1_is_proxy`) and the summaries " +
			"mark them `*`. The two normalisations:\n\n" +
			"- **sum**: A'[t, j] = A[t, j] / (Σ_{j' visible} A[t, j'] + 1e-8), for weights that are never negative;\n" +
			"- **abs_sum**: A'[t, j] = |A[t, j]| / Σ_{j' visible} |A[t, j']|, for weights that can be negative " +
			"(linear attention with the identity or MLP kernel); a row whose absolute values sum to 0 stays 0.\n\n" +
			"Which rule applies is part of each op's entry in the architecture catalogue (`config/arch_attention.go`):",
	},
	{
		Anchor: "slot", Title: "The slot and Sink*",
		Doc: "A model with a learnable key bias, a KV bias, a sink token (`model.bias`) or a learned sink logit " +
			"(`attention sink_logit`) has one extra column before token 1 in every row of its attention maps: " +
			"the **slot**. Every query sees it. Its alpha (the mean weight the slot receives from all queries) " +
			"is recorded at position k = 0, and its Sink_0 is **Sink***, the share of heads that park their " +
			"attention on the slot instead of on a token. (The paper also writes Sink* for proxy scores; here " +
			"Sink* is always the slot's score, and proxy scores are flagged separately.)",
	},
}
