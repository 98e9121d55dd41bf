package config

// The metric catalogue: every metric sinkrun records is described once, in
// metrics.go: its name and exact definition, its unit, the table that stores
// it and the coordinates it is measured at (k, eps, layer, head), whether it
// can be a proxy score, its copies in the runs table (the final_* columns,
// some of them summary columns) and the names `expect` claims give it.
//
// Everything that needs to know about a metric reads this catalogue:
// runtime/measure and runtime/trainer compute the values and emit them as
// MetricValues (a test checks that a run emits every metric listed here at
// exactly its coordinates); results/table turns them into rows, documents the
// tables' coordinate columns and writes the final_* columns; results builds
// the summary's columns from the final columns and evaluates `expect` claims
// from the claim names; the compiler resolves claim names; docs/metrics.md is
// generated from it. Adding a metric is its entry, the code that computes it
// and a test.

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// The tables metric values are stored in (results/table writes them).
const (
	// MetricsTable is the long table: one row per value, the metric's name
	// in its `metric` column, its coordinates in the coordinate columns.
	MetricsTable = "metrics"
	// HeadsTable is the per-head table: one row per (step, layer, head, k),
	// one column per metric, named after the metric.
	HeadsTable = "heads"
)

// metricTables are the tables that store metrics; a table of its own for
// new metrics joins them (and results/table writes it).
var metricTables = []string{MetricsTable, HeadsTable}

// MetricTables lists the tables that store metrics (a copy).
func MetricTables() []string { return slices.Clone(metricTables) }

// Metric is one entry of the metric catalogue.
type Metric struct {
	// Name is the metric's name: the value of the metrics table's `metric`
	// column, or the column of a per-head metric.
	Name string
	// Title is a short human name ("Sink_k^eps", "validation loss").
	Title string
	// Doc is its exact definition (Markdown) for docs/metrics.md.
	Doc string
	// Unit is what its values count: "%", "nats per token", ...
	Unit string
	// Table is the table that stores it (MetricsTable or HeadsTable).
	Table string
	// Coords are the coordinates a value is measured at, in order: columns
	// of its table (CoordK, CoordEps, ...). The table's other coordinate
	// columns are NULL in its rows.
	Coords []string
	// Cadence says when it is measured.
	Cadence Cadence
	// Proxy: its values are computed on attention maps, and on
	// row-normalised maps (a proxy score, flagged `is_proxy`) when the
	// attention op's rows need not sum to 1 (AttentionOp.Proxy).
	Proxy bool
	// Final are its copies in the runs table, in column order.
	Final []FinalColumn
	// Claims are the names `expect` claims use for it.
	Claims []ClaimName
}

// Cadence is when a metric is measured.
type Cadence string

const (
	// AtMeasurement: at step 0, every measure.every steps and at the end.
	AtMeasurement Cadence = "measurement"
	// EveryStep: after every training step.
	EveryStep Cadence = "step"
)

// The coordinates of metric values: the coordinate columns of the tables.
const (
	CoordK     = "k"
	CoordEps   = "eps"
	CoordLayer = "layer"
	CoordHead  = "head"
)

// Coord is one coordinate metric values can be measured at.
type Coord struct {
	Name string
	Kind CoordKind
	Doc  string
}

// CoordKind is the type of a coordinate's values in a Point.
type CoordKind int

const (
	CoordInt   CoordKind = iota // int (stored as INT32)
	CoordFloat                  // float64
	CoordName                   // string: a named value, such as a mode (written as an identifier in claims)
)

// coords lists every coordinate, in the order of the tables' columns.
var coords = []Coord{
	{Name: CoordK, Kind: CoordInt, Doc: "1-based token position; 0 is the slot column (learnable key bias, KV bias, sink token or sink logit) of models with one"},
	{Name: CoordEps, Kind: CoordFloat, Doc: "the threshold of a sink score (strict >)"},
	{Name: CoordLayer, Kind: CoordInt, Doc: "0-based layer"},
	{Name: CoordHead, Kind: CoordInt, Doc: "0-based head"},
}

// Coords lists every coordinate (a copy).
func Coords() []Coord { return slices.Clone(coords) }

// CoordNamed returns the coordinate named name.
func CoordNamed(name string) (Coord, bool) {
	i := slices.IndexFunc(coords, func(c Coord) bool { return c.Name == name })
	if i < 0 {
		return Coord{}, false
	}
	return coords[i], true
}

// Point gives the coordinates of one value: an int, float64 or string per
// coordinate of its metric (by its CoordKind). A coordinate the metric does
// not have is absent.
type Point map[string]any

// Int is the integer coordinate name.
func (p Point) Int(name string) (int, bool) {
	v, ok := p[name].(int)
	return v, ok
}

// Float is the coordinate name as a float64 (ints are converted).
func (p Point) Float(name string) (float64, bool) {
	switch v := p[name].(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}

// Has reports whether p has every coordinate of q at q's value (floats
// equal to 1e-12: an eps written in a claim and one read back from a file).
func (p Point) Has(q Point) bool {
	for name, want := range q {
		got, ok := p[name]
		if !ok || !SameCoord(got, want) {
			return false
		}
	}
	return true
}

// SameCoord reports whether two values of a coordinate are equal (numbers
// to 1e-12).
func SameCoord(a, b any) bool {
	fa, aNum := toFloat(a)
	fb, bNum := toFloat(b)
	if aNum && bNum {
		return math.Abs(fa-fb) < 1e-12
	}
	return a == b
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// String writes the coordinates in catalogue order: "k=1, eps=0.3".
func (p Point) String() string {
	var parts []string
	for _, c := range coords {
		if v, ok := p[c.Name]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", c.Name, v))
		}
	}
	var rest []string
	for name, v := range p {
		if _, known := CoordNamed(name); !known {
			rest = append(rest, fmt.Sprintf("%s=%v", name, v))
		}
	}
	sort.Strings(rest)
	return strings.Join(append(parts, rest...), ", ")
}

// MetricValue is one measured value of a catalogue metric.
type MetricValue struct {
	Metric string
	At     Point
	Value  float64
	// Proxy: computed on row-normalised attention maps.
	Proxy bool
}

// StepValue is a MetricValue with the training step it was measured at.
type StepValue struct {
	Step int64
	MetricValue
}

// FinalColumn is a copy of one value of a metric at a run's last
// measurement in the runs table (final_sink1, final_massive, ...), so that
// the runs table alone answers "where did each run end up".
type FinalColumn struct {
	Name string // the column, final_*
	Doc  string
	// At fixes coordinates (k = 1); First lists coordinates that take the
	// first value the run measured (eps: the first of measure.eps).
	At    Point
	First []string
	// Over combines the values left at the last step (the layers of a
	// per-layer metric); one value needs none.
	Over Reduction
	// ProxyColumn, if set, is a boolean column that flags the value as a
	// proxy score. Columns sharing it are proxies together; it is written
	// after the first of them.
	ProxyColumn string
	// AddedLater: files written before the column existed lack it (it then
	// reads as NULL).
	AddedLater bool
	// Summary, if set, makes the column a column of the summary table.
	Summary *SummaryColumn
}

// SummaryColumn is how a final column appears in the summary table: the
// mean over the seeds of a grid cell's finished runs (and, with SD, their
// standard deviation). An experiment's table shows it when some finished
// run of the experiment has a value (Sink* only for models with a slot; no
// empty column for runs written before the metric existed).
type SummaryColumn struct {
	Header string // the table's header: "Sink_1 %"
	// CSV names the CSV columns: CSV_mean, CSV_sd and, for a column with
	// a ProxyColumn, CSV_is_proxy.
	CSV  string
	Prec int  // decimals
	SD   bool // show "± sd" in the table and Markdown
	// EpsInHeader adds the experiment's first eps to the header when all its
	// runs share it: "Sink_1 % (eps 0.3)".
	EpsInHeader bool
	// EveryK, a header and a CSV name holding %d ("Sink_%d %", "sink%d"),
	// adds beside the column one per other position k the experiment's runs
	// measured (the metric's values at CoordK = k, read as the column reads
	// its own): the runs table keeps one position, the metrics table all,
	// so these columns show where the summary is given the runs' values
	// (sinkrun run and summarize read them).
	EveryK *EveryKColumns
}

// EveryKColumns name the columns a SummaryColumn adds per measured position.
type EveryKColumns struct {
	Header, CSV string // with %d for k
}

// ClaimName is a name `expect` claims give a metric: `sink_1`, `sink_star`,
// `massive`. A claim's quantity is the metric's value at a run's last
// measurement, at the coordinates the name and its arguments fix; values
// left at other coordinates (the layers of a per-layer metric) are combined
// by Over.
type ClaimName struct {
	// Name is the name; with NameCoord, the name with the coordinate's
	// value written as K: "sink_K" stands for sink_1, sink_2, ...
	Name string
	// NameCoord is an integer coordinate written in the name (K >= 1).
	NameCoord string
	// NameWhat says what K is, for messages: "a position".
	NameWhat string
	Doc      string
	// At are the coordinates the name fixes (sink_star: k = 0).
	At Point
	// Args are the coordinates a claim may set as named arguments.
	Args []ClaimArg
	Over Reduction
	// Check, if set, says why a run cannot have the value at at (a
	// position it does not measure, a slot it does not have), or "". run
	// names the run for the message.
	Check func(r Run, at Point, run string) string
}

// ClaimArg is a coordinate a claim may set as a named argument: `eps: 0.5`
// (a number for numeric coordinates, a name for CoordName ones).
type ClaimArg struct {
	Coord string
	Doc   string
	// Measured are the values a run measures (of the coordinate's kind); a
	// written value must be one of them, and without it the claim reads the
	// first, which every selected run must share.
	Measured func(r Run) []any
	// Setting is where the measured values come from ("measure.eps") and
	// What what a run without any lacks ("sink score"), for messages.
	Setting, What string
}

// Pattern is the claim name's prefix and whether the name is a pattern
// (sink_K: "sink_", true).
func (c ClaimName) Pattern() (prefix string, ok bool) {
	if c.NameCoord == "" {
		return c.Name, false
	}
	return strings.TrimSuffix(c.Name, "K"), true
}

// Metrics lists the catalogue, in documentation order (a copy).
func Metrics() []Metric { return slices.Clone(metrics) }

// MetricNamed returns the catalogue entry of a metric.
func MetricNamed(name string) (Metric, bool) {
	i := slices.IndexFunc(metrics, func(m Metric) bool { return m.Name == name })
	if i < 0 {
		return Metric{}, false
	}
	return metrics[i], true
}

// FinalColumns lists every metric's final columns, in catalogue order.
func FinalColumns() []FinalColumn {
	var out []FinalColumn
	for _, m := range metrics {
		out = append(out, m.Final...)
	}
	return out
}

// MetricOfFinal returns the metric a final column copies.
func MetricOfFinal(column string) (Metric, FinalColumn, bool) {
	for _, m := range metrics {
		for _, f := range m.Final {
			if f.Name == column {
				return m, f, true
			}
		}
	}
	return Metric{}, FinalColumn{}, false
}

// MetricClaim is a claim name with its metric.
type MetricClaim struct {
	Metric Metric
	Claim  ClaimName
}

// ClaimNames lists every claim name with its metric, in catalogue order.
func ClaimNames() []MetricClaim {
	var out []MetricClaim
	for _, m := range metrics {
		for _, c := range m.Claims {
			out = append(out, MetricClaim{m, c})
		}
	}
	return out
}

// Pick is the value that a final column or a claim reads from one run's
// values: those of metric whose point has at; for each coordinate of first,
// only those at the value of the first of them (in measurement order); of
// these, the ones measured at the last step, combined by over (NaN values
// left out). proxy is true when any value combined is a proxy score; ok is
// false when no value matches.
func Pick(values []StepValue, metric string, at Point, first []string, over Reduction) (v float64, proxy bool, ok bool) {
	var match []StepValue
	for _, sv := range values {
		if sv.Metric == metric && sv.At.Has(at) {
			match = append(match, sv)
		}
	}
	if len(match) == 0 {
		return math.NaN(), false, false
	}
	if len(first) > 0 {
		firstAt := Point{}
		for _, c := range first {
			if v, ok := match[0].At[c]; ok {
				firstAt[c] = v
			}
		}
		match = slices.DeleteFunc(match, func(sv StepValue) bool { return !sv.At.Has(firstAt) })
	}
	last := match[0].Step
	for _, sv := range match {
		last = max(last, sv.Step)
	}
	var vs []float64
	for _, sv := range match {
		if sv.Step != last {
			continue
		}
		proxy = proxy || sv.Proxy
		if !math.IsNaN(sv.Value) {
			vs = append(vs, sv.Value)
		}
	}
	if len(vs) == 0 {
		return math.NaN(), proxy, true
	}
	return over.Apply(vs), proxy, true
}

// FinalValue is the value of a final column, and whether it is a proxy
// score.
type FinalValue struct {
	Value float64 // NaN: not measured (NULL)
	Proxy bool
}

// Finals is the value of every final column (FinalColumns) given one run's
// values: NaN where the run has none. A value is flagged a proxy score only
// where its column has a proxy flag (ProxyColumn), as the runs table
// records it.
func Finals(values []StepValue) map[string]FinalValue {
	out := map[string]FinalValue{}
	for _, m := range metrics {
		for _, f := range m.Final {
			v, proxy, _ := Pick(values, m.Name, f.At, f.First, f.Over)
			out[f.Name] = FinalValue{v, proxy && f.ProxyColumn != ""}
		}
	}
	return out
}
