package plot

import (
	"math"
	"slices"
	"testing"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/table"
)

// The Sink_1 band (mean ± sd over seeds) stays inside [0, 100] %.
func TestSink1CurveBandIsAPercentage(t *testing.T) {
	runs := []table.Run{{ID: "a"}, {ID: "b"}}
	sink := func(id string, step int64, v float64) table.Metric {
		return table.Metric{RunID: id, Step: step, TokensSeen: step * 10, Metric: config.MetricSink, K: 1, Eps: 0.3, Layer: -1, Head: -1, Value: v}
	}
	byRun := map[string][]table.Metric{
		"a": {sink("a", 0, 0), sink("a", 1, 0), sink("a", 2, 95), sink("a", 3, 40)},
		"b": {sink("b", 0, 0), sink("b", 1, 100), sink("b", 2, 100), sink("b", 3, 60)},
	}
	s, _ := sink1Curve(results.Variant{Label: "v", Runs: runs}, byRun)
	sd := func(a, b float64) float64 { return math.Abs(a-b) / math.Sqrt2 }
	wantY := []float64{0, 50, 97.5, 50}
	wantLo := []float64{0, 0, 97.5 - sd(95, 100), 50 - sd(40, 60)}
	wantHi := []float64{0, 100, 100, 50 + sd(40, 60)}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !slices.EqualFunc(s.Y, wantY, near) || !slices.EqualFunc(s.Lo, wantLo, near) || !slices.EqualFunc(s.Hi, wantHi, near) {
		t.Errorf("Y %v, Lo %v, Hi %v; want %v, %v, %v", s.Y, s.Lo, s.Hi, wantY, wantLo, wantHi)
	}
}
