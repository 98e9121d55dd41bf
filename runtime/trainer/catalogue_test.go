package trainer

import (
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// TestEveryCatalogueMetricRecorded: a run records every metric of the
// metric catalogue, each at exactly its coordinates, at its cadence, a proxy
// score only where the catalogue says it can be; no row names a metric the
// catalogue does not list; and the runs row's final_* columns are the last
// measurement's values. (sigmoid: proxy scores; a key bias: the slot, k = 0.)
func TestEveryCatalogueMetricRecorded(t *testing.T) {
	src := strings.Replace(tiny, "layers 1; heads 2; d_model 16", "layers 2; heads 2; d_model 16; attention sigmoid; bias k", 1)
	src = strings.Replace(src, "sink [1, 2]", "sink [1, 2]; eps [0.3, 0.1]", 1)
	run, ds, opts := setup(t, src)
	res, err := Train(context.Background(), run, ds, opts)
	if err != nil || res.Run.Status != table.StatusDone {
		t.Fatalf("%v %s %s", err, res.Run.Status, res.Run.Error)
	}
	measured := []int64{0, 10, 20, 30, 40}
	var stepped []int64
	for s := int64(1); s <= 40; s++ {
		stepped = append(stepped, s)
	}
	seen := map[string]map[int64]bool{}
	for _, row := range res.Metrics {
		m, ok := config.MetricNamed(row.Metric)
		if !ok || m.Table != config.MetricsTable {
			t.Fatalf("row of metric %q, which the catalogue does not list in the metrics table", row.Metric)
		}
		v := row.StepValue()
		if got := slices.Sorted(maps.Keys(v.At)); !slices.Equal(got, slices.Sorted(slices.Values(m.Coords))) {
			t.Fatalf("%s recorded at %v, want the coordinates %v", m.Name, v.At, m.Coords)
		}
		if row.IsProxy && !m.Proxy || m.Proxy && !row.IsProxy {
			t.Errorf("%s at %v: is_proxy %v (sigmoid attention: proxy scores)", m.Name, v.At, row.IsProxy)
		}
		if seen[m.Name] == nil {
			seen[m.Name] = map[int64]bool{}
		}
		seen[m.Name][row.Step] = true
	}
	for _, m := range config.Metrics() {
		switch {
		case m.Table == config.HeadsTable:
			// Its column of every heads row: steps × layers × heads × k (1, 2 and the slot).
			if len(res.Heads) != 5*2*2*3 {
				t.Errorf("%d heads rows, want %d", len(res.Heads), 5*2*2*3)
			}
			for _, h := range res.Heads {
				if !h.IsProxy || h.K < 0 || h.K > 2 || h.Layer > 1 || h.Head > 1 || !slices.Contains(measured, h.Step) {
					t.Fatalf("heads row %+v", h)
				}
			}
		case seen[m.Name] == nil:
			t.Errorf("%s: not recorded", m.Name)
		default:
			want := measured
			if m.Cadence == config.EveryStep {
				want = stepped
			}
			if got := slices.Sorted(maps.Keys(seen[m.Name])); !slices.Equal(got, want) {
				t.Errorf("%s recorded at steps %v, want %v", m.Name, got, want)
			}
		}
	}
	values := table.Values(res.Metrics)
	for _, f := range config.FinalColumns() {
		m, _, _ := config.MetricOfFinal(f.Name)
		want, proxy, _ := config.Pick(values, m.Name, f.At, f.First, f.Over)
		got := res.Run.Final(f.Name)
		if math.IsNaN(got.Value) || got.Value != want || got.Proxy != (proxy && f.ProxyColumn != "") {
			t.Errorf("%s = %+v, want %v (proxy %v)", f.Name, got, want, proxy)
		}
	}
}
