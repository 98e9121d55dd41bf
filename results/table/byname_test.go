package table

import (
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// rawColumn reads one column of a file's table by name, outside the schema's
// own reader, as any other tool would: row values as float64 (NULL: NaN;
// true: 1).
func rawColumn(t *testing.T, path, name string) []float64 {
	t.Helper()
	tbl := openTable(t, path)
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("%s: %d columns named %s", path, len(idx), name)
	}
	var out []float64
	for _, c := range tbl.Column(idx[0]).Data().Chunks() {
		for i := range c.Len() {
			if c.IsNull(i) {
				out = append(out, math.NaN())
				continue
			}
			switch a := c.(type) {
			case *array.Float64:
				out = append(out, a.Value(i))
			case *array.Int32:
				out = append(out, float64(a.Value(i)))
			case *array.Int64:
				out = append(out, float64(a.Value(i)))
			case *array.Boolean:
				out = append(out, map[bool]float64{false: 0, true: 1}[a.Value(i)])
			default:
				t.Fatalf("%s: column %s has type %s", path, name, arrow.Array(a).DataType())
			}
		}
	}
	return out
}

// TestColumnsByName reads every value column of the tables by its name,
// not through the schema that wrote it, and finds the values written to
// the field of that name: a writer and reader that agree with each other
// on a swapped mapping (alpha written to sink_percent, k to layer, one
// final column to another) still fail here.
func TestColumnsByName(t *testing.T) {
	dir := t.TempDir()
	r := testRun("0123456789abcdef", "byname")
	heads := []Head{
		{RunID: r.ID, Step: 10, TokensSeen: 100, Layer: 1, Head: 2, K: 3, Alpha: 0.25, SinkPercent: 75, IsProxy: true},
		{RunID: r.ID, Step: 20, TokensSeen: 200, Layer: 4, Head: 5, K: 0, Alpha: 0.5, SinkPercent: 12.5},
	}
	metrics := []Metric{
		{RunID: r.ID, Step: 10, TokensSeen: 100, Metric: "sink", K: 2, Eps: 0.3, Layer: -1, Head: -1, Value: 42, IsProxy: true},
		{RunID: r.ID, Step: 20, TokensSeen: 200, Metric: "massive_key", K: -1, Eps: math.NaN(), Layer: 6, Head: 7, Value: 3.5},
	}
	maps := []Map{{RunID: r.ID, Step: 20, Layer: 1, Head: 2, Query: 3, Key: -1, Weight: 0.125}}
	if err := WriteWithMaps(dir, r, metrics, heads, maps); err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	for _, tc := range []struct {
		table string
		want  map[string][]float64
	}{
		{TableHeads, map[string][]float64{
			"step": {10, 20}, "tokens_seen": {100, 200}, "layer": {1, 4}, "head": {2, 5}, "k": {3, 0},
			"alpha": {0.25, 0.5}, "sink_percent": {75, 12.5}, "is_proxy": {1, 0},
		}},
		{TableMetrics, map[string][]float64{
			"step": {10, 20}, "tokens_seen": {100, 200}, "k": {2, nan}, "eps": {0.3, nan}, "layer": {nan, 6},
			"head": {nan, 7}, "value": {42, 3.5}, "is_proxy": {1, 0},
		}},
		{TableMaps, map[string][]float64{"step": {20}, "layer": {1}, "head": {2}, "query": {3}, "key": {-1}, "weight": {0.125}}},
		{TableRuns, map[string][]float64{
			"final_val_loss": {nan}, "final_train_loss": {3.25}, "final_sink1": {42.5}, "final_sink1_is_proxy": {1},
			"final_sink_slot": {87.5}, "final_mean_alpha1": {0.61}, "final_massive": {123.4},
			"diverged_step": {120}, "steps": {120}, "params": {812345}, "grid_index": {3}, "wall_seconds": {12.5},
		}},
	} {
		path := Path(dir, tc.table, r.Experiment, r.ID)
		for name, want := range tc.want {
			got := rawColumn(t, path, name)
			if len(got) != len(want) {
				t.Errorf("%s.%s: %d rows, want %d", tc.table, name, len(got), len(want))
				continue
			}
			for i := range want {
				if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
					t.Errorf("%s.%s row %d = %v, want %v", tc.table, name, i, got[i], want[i])
				}
			}
		}
	}
}
