package results

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/sinkrun/sinkrun/config"
)

// The tables' columns, in file order, with the meaning that docs/results.md
// shows for each (TestSchemaDocs keeps the page in step with these lists).

// runsColumns are the runs table's own columns. The setting columns, one per
// resolved setting (Run.Settings), come between the first of them (run_id)
// and the rest.
var runsColumns = []column[Run]{
	stringCol("run_id", func(r *Run) *string { return &r.ID }, "run id"),
	// settings here (settingsAfter)
	encodedString("varied",
		"the experiment's varied axes and this run's values, JSON: `[{\"path\":\"model.position\",\"value\":\"rope\"}]` "+
			"(`[]` when nothing is varied); equal for all seeds of a grid cell",
		func(r *Run) (string, error) {
			varied := r.Varied
			if varied == nil {
				varied = []config.Setting{}
			}
			b, err := json.Marshal(varied)
			return string(b), err
		},
		func(r *Run, s string) error {
			if s == "" {
				return nil
			}
			return json.Unmarshal([]byte(s), &r.Varied)
		}),
	int64Col("grid_index", func(r *Run) *int64 { return &r.GridIndex },
		"the run's 0-based place in its experiment's grid (first axis slowest, seeds fastest): `ORDER BY grid_index` "+
			"is the order of the `.sink` file. NULL in files of sinkrun versions before the column "+
			"(and absent there: read with `union_by_name = true`)").orNull().addedLater(),
	encodedString("status", statusDoc(),
		func(r *Run) (string, error) { return string(r.Status), nil },
		func(r *Run, s string) error { r.Status = Status(s); return nil }),
	stringCol("error", func(r *Run) *string { return &r.Error }, "why the run diverged or failed").orNull(),
	int64Col("diverged_step", func(r *Run) *int64 { return &r.DivergedStep }, "the step whose loss was not finite").orNull(),
	int64Col("steps", func(r *Run) *int64 { return &r.Steps }, "optimiser steps run"),
	int64Col("tokens_seen", func(r *Run) *int64 { return &r.TokensSeen }, "training tokens seen (steps x batch x context)"),
	timeCol("started_at", func(r *Run) *time.Time { return &r.StartedAt },
		"when training started (a resumed run: when it resumed)"),
	float64Col("wall_seconds", func(r *Run) *float64 { return &r.WallSeconds }, "wall time of the run").orNull(),
	float64Col("ms_per_step", func(r *Run) *float64 { return &r.MsPerStep }, "mean time of one training step").orNull(),
	int64Col("params", func(r *Run) *int64 { return &r.Params }, "trainable parameters"),
	stringCol("backend", func(r *Run) *string { return &r.Backend }, "compute backend (`go`, `xla:cuda`, ...)"),
	float64Col("final_val_loss", func(r *Run) *float64 { return &r.FinalValLoss },
		"validation loss at the last measurement (nats per token)").orNull(),
	float64Col("final_train_loss", func(r *Run) *float64 { return &r.FinalTrainLoss }, "training loss of the last step").orNull(),
	float64Col("final_sink1", func(r *Run) *float64 { return &r.FinalSink1 },
		"Sink_1 in % at the first eps of `measure_eps`, last measurement").orNull(),
	boolCol("final_sink1_is_proxy", func(r *Run) *bool { return &r.Sink1Proxy },
		"`final_sink1` is a proxy score (row-normalised maps); `final_sink_slot` is one exactly when this is true"),
	float64Col("final_sink_slot", func(r *Run) *float64 { return &r.FinalSinkSlot },
		"Sink* in %: the score of the slot column (learnable key bias, KV bias, sink token or sink logit, `model.bias`) "+
			"at the first eps, last measurement; the metric `sink` with `k` = 0. NULL when the model has no slot "+
			"(and in files before the column)").orNull().addedLater(),
	float64Col("final_mean_alpha1", func(r *Run) *float64 { return &r.FinalMeanAlpha1 },
		"alpha_1 averaged over probe sequences, layers and heads").orNull(),
	float64Col("final_massive", func(r *Run) *float64 { return &r.FinalMassive },
		"the largest hidden-state massive-activation ratio over layers").orNull(),
	stringCol("config_hash", func(r *Run) *string { return &r.ConfigHash }, "as the footer"),
	stringCol("tool_version", func(r *Run) *string { return &r.ToolVersion }, "as the footer"),
	stringCol("git_revision", func(r *Run) *string { return &r.GitRevision }, "as the footer"),
}

// settingsAfter is how many of runsColumns precede the setting columns.
const settingsAfter = 1

var metricsColumns = []column[Metric]{
	stringCol("run_id", func(m *Metric) *string { return &m.RunID }, "joins `runs.run_id`"),
	int64Col("step", func(m *Metric) *int64 { return &m.Step }, "optimiser steps done when measured"),
	int64Col("tokens_seen", func(m *Metric) *int64 { return &m.TokensSeen }, "training tokens seen by then"),
	stringCol("metric", func(m *Metric) *string { return &m.Metric }, "which metric (below)"),
	int32Col("k", func(m *Metric) *int32 { return &m.K },
		"1-based token position, for `sink` and `mean_alpha`; 0 is the slot column (`sink` only)").orNull(),
	float64Col("eps", func(m *Metric) *float64 { return &m.Eps }, "threshold, for `sink`").orNull(),
	int32Col("layer", func(m *Metric) *int32 { return &m.Layer }, "0-based layer, for `massive_*`").orNull(),
	int32Col("head", func(m *Metric) *int32 { return &m.Head }, "0-based head (not used by the current metrics)").orNull(),
	float64Col("value", func(m *Metric) *float64 { return &m.Value },
		"the value (NaN or Inf only in a diverged run's last `train_loss`)"),
	boolCol("is_proxy", func(m *Metric) *bool { return &m.IsProxy },
		"computed on row-normalised attention maps (a proxy score, for attention whose rows do not sum to 1)"),
}

var headsColumns = []column[Head]{
	stringCol("run_id", func(h *Head) *string { return &h.RunID }, "joins `runs.run_id`"),
	int64Col("step", func(h *Head) *int64 { return &h.Step }, "as in `metrics`"),
	int64Col("tokens_seen", func(h *Head) *int64 { return &h.TokensSeen }, "as in `metrics`"),
	int32Col("layer", func(h *Head) *int32 { return &h.Layer }, "0-based layer"),
	int32Col("head", func(h *Head) *int32 { return &h.Head }, "0-based head"),
	int32Col("k", func(h *Head) *int32 { return &h.K },
		"1-based token position (every k of `measure.sink`), or 0 for the slot column of models with one (Sink*)"),
	float64Col("alpha", func(h *Head) *float64 { return &h.Alpha }, "alpha_k of this head, averaged over the probe sequences"),
	float64Col("sink_percent", func(h *Head) *float64 { return &h.SinkPercent },
		"% of probe sequences in which this head's alpha_k (k = 0: the slot's) exceeds the first eps"),
	boolCol("is_proxy", func(h *Head) *bool { return &h.IsProxy }, "computed on row-normalised maps"),
}

var mapsColumns = []column[Map]{
	stringCol("run_id", func(m *Map) *string { return &m.RunID }, "joins `runs.run_id`"),
	int64Col("step", func(m *Map) *int64 { return &m.Step }, "the final measurement step"),
	int32Col("layer", func(m *Map) *int32 { return &m.Layer }, "0-based layer"),
	int32Col("head", func(m *Map) *int32 { return &m.Head }, "0-based head"),
	int32Col("query", func(m *Map) *int32 { return &m.Query }, "0-based query position (token `query + 1` of SPEC §1)"),
	int32Col("key", func(m *Map) *int32 { return &m.Key },
		"0-based key position, or -1 for the slot column (key bias, KV bias, sink token or sink logit) of models with one"),
	float64Col("weight", func(m *Map) *float64 { return &m.Weight },
		"the attention weight as used to mix the values (the op's raw weights: not row-normalised for ops without normalisation)"),
}

// statusDocs documents every Status.
var statusDocs = []struct {
	status Status
	doc    string
}{
	{StatusDone, ""},
	{StatusDiverged, "the loss became NaN or Inf: a result, not a crash"},
	{StatusFailed, "an error"},
}

// statusDoc is the status column's meaning: every status, explained.
func statusDoc() string {
	parts := make([]string, len(statusDocs))
	for i, s := range statusDocs {
		parts[i] = "`" + string(s.status) + "`"
		if s.doc != "" {
			parts[i] += " (" + s.doc + ")"
		}
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// metricDocs documents every metric name (definitions: SPEC §1): the columns
// it sets (the others are NULL) and its value.
var metricDocs = []struct {
	names []string
	set   string // Markdown
	value string
}{
	{[]string{MetricSink}, "`k`, `eps`", "Sink_k^eps in %: the share of (probe sequence, layer, head) with alpha_k > eps. " +
		"`k` = 0 is the slot (Sink*): models with a learnable key bias, KV bias, sink token or sink logit have a slot column " +
		"before token 1 in every attention row, and its alpha is the attention that column receives; rows with `k` = 0 " +
		"exist only for such models. (The paper also calls proxy scores Sink*; on this page Sink* is the slot's score, " +
		"and proxy scores are flagged by `is_proxy`.)"},
	{[]string{MetricMeanAlpha}, "`k` (= 1)", "alpha_1 averaged over probe sequences, layers and heads"},
	{[]string{MetricMassiveHidden}, "`layer`",
		"the first token's hidden-state norm over the mean of the other tokens', at layer `layer`'s output"},
	{[]string{MetricMassiveKey, MetricMassiveValue}, "`layer`", "the same for the layer's keys (post-RoPE) and values"},
	{[]string{MetricValLoss}, "", "mean next-token cross-entropy on held-out data, nats per token"},
	{[]string{MetricTrainLoss}, "", "training loss of the step (every step)"},
	{[]string{MetricLR}, "", "learning rate of the step (every step)"},
}
