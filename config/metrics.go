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
			"the mean over its predicted tokens (with a prefix mask, the positions before the prefix's last " +
			"token are left out, as in training); the metric is the mean over the batches.",
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
			"(probe sequence, layer, head) triples whose [alpha_k](#alpha) on that one sequence is strictly " +
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
				Summary: &SummaryColumn{Header: "Sink_1 %", CSV: "sink1", Prec: 2, SD: true, EpsInHeader: true},
			},
			{
				Name: "final_sink_slot",
				Doc: "Sink* in %: the score of the slot column (learnable key bias, KV bias, sink token or sink logit, " +
					"`model.bias`) at the first eps, last measurement; the metric `sink` with `k` = 0. NULL when the " +
					"model has no slot (and in files before the column)",
				At: Point{CoordK: 0}, First: []string{CoordEps}, ProxyColumn: "final_sink1_is_proxy", AddedLater: true,
				Summary: &SummaryColumn{Header: "Sink* %", CSV: "sink_slot", Prec: 2, SD: true, IfAny: true},
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
		Doc: "[alpha_1](#alpha), the attention the first token receives, averaged over the probe sequences, " +
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
		Doc: "One head's [alpha_k](#alpha), averaged over the probe sequences: for every layer, head and " +
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
		Doc: "One head's share of probe sequences, in %, in which its [alpha_k](#alpha) on that sequence is " +
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
		Unit:    "learning rate",
		Table:   MetricsTable,
		Cadence: EveryStep,
	},
}

// epsArg is the eps argument of the sink scores' claim names.
var epsArg = ClaimArg{
	Coord:    CoordEps,
	Doc:      "a threshold of `measure.eps`; the first by default",
	Measured: func(r Run) []float64 { return r.Measure.Eps },
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
