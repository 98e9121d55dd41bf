package table

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/sinkrun/sinkrun/config"
)

// The tables' columns, in file order, with the meaning that docs/results.md
// shows for each (TestSchemaDocs keeps the page in step with these lists).

// runsOwn are the runs table's own columns. The setting columns, one per
// resolved setting (Run.Settings), come between the first of them (run_id)
// and the rest; the final_* columns after finalsAfter.
var runsOwn = []column[Run]{
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
	// the final_* columns here (finalsAfter)
	stringCol("config_hash", func(r *Run) *string { return &r.ConfigHash }, "as the footer"),
	stringCol("tool_version", func(r *Run) *string { return &r.ToolVersion }, "as the footer"),
	stringCol("git_revision", func(r *Run) *string { return &r.GitRevision }, "as the footer"),
}

// settingsAfter is how many of runsColumns precede the setting columns.
const settingsAfter = 1

// finalsAfter is the runs column the final_* columns follow.
const finalsAfter = "backend"

// runsColumns is the runs table's columns but the settings: runsOwn with
// the final_* columns of the metric catalogue (config.FinalColumns) after
// finalsAfter.
var runsColumns = withFinals(runsOwn)

// withFinals places the final columns of the catalogue after finalsAfter:
// one nullable DOUBLE per final column, in catalogue order, each followed by
// its proxy flag's BOOLEAN column when it is the first to name it.
func withFinals(own []column[Run]) []column[Run] {
	var finals []column[Run]
	flagged := map[string]bool{}
	for _, f := range config.FinalColumns() {
		name := f.Name
		c := float64Fn(name, f.Doc,
			func(r *Run) float64 { return r.Final(name).Value },
			func(r *Run, v float64) { fv := r.Final(name); fv.Value = v; r.SetFinal(name, fv.Value, fv.Proxy) }).orNull()
		if f.AddedLater {
			c = c.addedLater()
		}
		finals = append(finals, c)
		if f.ProxyColumn == "" || flagged[f.ProxyColumn] {
			continue
		}
		flagged[f.ProxyColumn] = true
		var shared []string // every final column this flag marks
		for _, g := range config.FinalColumns() {
			if g.ProxyColumn == f.ProxyColumn {
				shared = append(shared, g.Name)
			}
		}
		flag := boolFn(f.ProxyColumn, proxyDoc(shared),
			func(r *Run) bool { return r.Final(name).Proxy },
			func(r *Run, b bool) {
				for _, g := range shared {
					fv := r.Final(g)
					fv.Proxy = b
					r.SetFinal(g, fv.Value, fv.Proxy)
				}
			})
		if f.AddedLater {
			flag = flag.addedLater()
		}
		finals = append(finals, flag)
	}
	at := slices.IndexFunc(own, func(c column[Run]) bool { return c.name == finalsAfter }) + 1
	return slices.Concat(own[:at], finals, own[at:])
}

// proxyDoc documents a proxy flag of final columns.
func proxyDoc(columns []string) string {
	doc := "`" + columns[0] + "` is a proxy score (computed on row-normalised maps)"
	if len(columns) > 1 {
		doc += "; " + strings.Join(quoted(columns[1:]), ", ") + " is one exactly when this is true"
	}
	return doc
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return out
}

var metricsColumns = []column[Metric]{
	stringCol("run_id", func(m *Metric) *string { return &m.RunID }, "joins `runs.run_id`"),
	int64Col("step", func(m *Metric) *int64 { return &m.Step }, "optimiser steps done when measured"),
	int64Col("tokens_seen", func(m *Metric) *int64 { return &m.TokensSeen }, "training tokens seen by then"),
	stringCol("metric", func(m *Metric) *string { return &m.Metric }, "which metric (below)"),
	int32Col(config.CoordK, func(m *Metric) *int32 { return &m.K }, coordDoc(config.MetricsTable, config.CoordK)).orNull(),
	float64Col(config.CoordEps, func(m *Metric) *float64 { return &m.Eps }, coordDoc(config.MetricsTable, config.CoordEps)).orNull(),
	int32Col(config.CoordLayer, func(m *Metric) *int32 { return &m.Layer }, coordDoc(config.MetricsTable, config.CoordLayer)).orNull(),
	int32Col(config.CoordHead, func(m *Metric) *int32 { return &m.Head }, coordDoc(config.MetricsTable, config.CoordHead)).orNull(),
	float64Col("value", func(m *Metric) *float64 { return &m.Value },
		"the value (NaN or Inf only in a diverged run's last `train_loss`)"),
	boolCol("is_proxy", func(m *Metric) *bool { return &m.IsProxy }, proxyRowDoc(config.MetricsTable)),
}

var headsColumns = []column[Head]{
	stringCol("run_id", func(h *Head) *string { return &h.RunID }, "joins `runs.run_id`"),
	int64Col("step", func(h *Head) *int64 { return &h.Step }, "as in `metrics`"),
	int64Col("tokens_seen", func(h *Head) *int64 { return &h.TokensSeen }, "as in `metrics`"),
	int32Col(config.CoordLayer, func(h *Head) *int32 { return &h.Layer }, coordDoc(config.HeadsTable, config.CoordLayer)),
	int32Col(config.CoordHead, func(h *Head) *int32 { return &h.Head }, coordDoc(config.HeadsTable, config.CoordHead)),
	int32Col(config.CoordK, func(h *Head) *int32 { return &h.K }, coordDoc(config.HeadsTable, config.CoordK)),
	float64Col(config.MetricHeadAlpha, func(h *Head) *float64 { return &h.Alpha }, metricDoc(config.MetricHeadAlpha)),
	float64Col(config.MetricHeadSink, func(h *Head) *float64 { return &h.SinkPercent }, metricDoc(config.MetricHeadSink)),
	boolCol("is_proxy", func(h *Head) *bool { return &h.IsProxy }, proxyRowDoc(config.HeadsTable)),
}

// coordDoc is the meaning of a coordinate column of a table, and which of
// the table's metrics set it.
func coordDoc(table, coord string) string {
	c, _ := config.CoordNamed(coord)
	var users []string
	all := true
	for _, m := range config.Metrics() {
		if m.Table != table {
			continue
		}
		if slices.Contains(m.Coords, coord) {
			users = append(users, m.Name)
		} else {
			all = false
		}
	}
	switch {
	case all:
		return c.Doc
	case len(users) == 0:
		return c.Doc + "; set by no metric yet"
	}
	return c.Doc + "; set by " + strings.Join(quoted(users), ", ")
}

// proxyRowDoc documents a table's is_proxy column.
func proxyRowDoc(table string) string {
	var can []string
	all := true
	for _, m := range config.Metrics() {
		if m.Table == table && m.Proxy {
			can = append(can, m.Name)
		} else if m.Table == table {
			all = false
		}
	}
	doc := "computed on row-normalised attention maps: a proxy score, for attention ops whose rows need not sum to 1 " +
		"([proxy scores](metrics.md#proxy))"
	if !all {
		doc += "; only " + strings.Join(quoted(can), ", ") + " can be"
	}
	return doc
}

// metricDoc is a per-head metric's column doc: its title and unit, linked
// to its definition.
func metricDoc(name string) string {
	m, _ := config.MetricNamed(name)
	return "[" + m.Title + "](metrics.md#" + m.Name + "), " + m.Unit
}

var mapsColumns = []column[Map]{
	stringCol("run_id", func(m *Map) *string { return &m.RunID }, "joins `runs.run_id`"),
	int64Col("step", func(m *Map) *int64 { return &m.Step }, "the final measurement step"),
	int32Col("layer", func(m *Map) *int32 { return &m.Layer }, "0-based layer"),
	int32Col("head", func(m *Map) *int32 { return &m.Head }, "0-based head"),
	int32Col("query", func(m *Map) *int32 { return &m.Query }, "0-based query position (token `query + 1` of the [definitions](metrics.md#alpha_k), which count from 1)"),
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
