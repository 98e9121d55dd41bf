package table

import (
	"fmt"
	"math"

	"github.com/sinkrun/sinkrun/config"
)

// MetricRow is the metrics-table row of a value measured at a step: its
// coordinates go to the columns of the same names (config.CoordK, ...), the
// others are NULL. A coordinate the table has no column for is a programming
// error (TestCatalogueTables keeps the catalogue to the table's columns).
func MetricRow(runID string, step, tokens int64, v config.MetricValue) Metric {
	m := Metric{RunID: runID, Step: step, TokensSeen: tokens, Metric: v.Metric,
		K: -1, Eps: math.NaN(), Layer: -1, Head: -1, Value: v.Value, IsProxy: v.Proxy}
	for name, c := range v.At {
		f, isFloat := c.(float64)
		i, isInt := c.(int)
		switch {
		case name == config.CoordK && isInt:
			m.K = int32(i)
		case name == config.CoordEps && isFloat:
			m.Eps = f
		case name == config.CoordLayer && isInt:
			m.Layer = int32(i)
		case name == config.CoordHead && isInt:
			m.Head = int32(i)
		default:
			panic(fmt.Sprintf("table: metric %s: coordinate %s = %v (%T) is not a column of the metrics table", v.Metric, name, c, c))
		}
	}
	return m
}

// StepValue is the row's value at its step, its coordinates those of its
// non-NULL coordinate columns.
func (m Metric) StepValue() config.StepValue {
	at := config.Point{}
	if m.K >= 0 {
		at[config.CoordK] = int(m.K)
	}
	if !math.IsNaN(m.Eps) {
		at[config.CoordEps] = m.Eps
	}
	if m.Layer >= 0 {
		at[config.CoordLayer] = int(m.Layer)
	}
	if m.Head >= 0 {
		at[config.CoordHead] = int(m.Head)
	}
	return config.StepValue{Step: m.Step, MetricValue: config.MetricValue{Metric: m.Metric, At: at, Value: m.Value, Proxy: m.IsProxy}}
}

// Values are the rows' values, in row order.
func Values(rows []Metric) []config.StepValue {
	out := make([]config.StepValue, len(rows))
	for i, m := range rows {
		out[i] = m.StepValue()
	}
	return out
}

// FinalsOf is every final column of the runs table given one run's metrics
// rows (config.Finals).
func FinalsOf(rows []Metric) map[string]config.FinalValue {
	return config.Finals(Values(rows))
}

// ReadValues reads the metric values of one experiment (every table that
// stores catalogue metrics as values: the metrics table), by run id, in row
// order. A metric stored in a table of its own adds its table here.
func ReadValues(dir, experiment string) (map[string][]config.StepValue, error) {
	rows, err := ReadMetrics(dir, experiment)
	if err != nil {
		return nil, err
	}
	out := map[string][]config.StepValue{}
	for _, m := range rows {
		out[m.RunID] = append(out[m.RunID], m.StepValue())
	}
	return out, nil
}
