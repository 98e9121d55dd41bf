// Package runnertest has the checks that the batch runner's tests and the
// command's end-to-end tests share: two results directories hold the same
// runs, and a finished batch left nothing behind.
package runnertest

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// SameResults checks that two results directories hold the same runs, each
// exactly once, with the same outcome, final metrics, metrics rows and heads
// rows, bit for bit (timings aside).
func SameResults(t testing.TB, got, want string) {
	t.Helper()
	g, w := Read(t, got), Read(t, want)
	if gk, wk := slices.Sorted(maps.Keys(g)), slices.Sorted(maps.Keys(w)); !slices.Equal(gk, wk) {
		t.Fatalf("runs differ:\n got %v\nwant %v", gk, wk)
	}
	for id, gr := range g {
		if wr := w[id]; gr != wr {
			t.Errorf("run %s differs:\n got %s\nwant %s", id, first(gr, 12), first(wr, 12))
		}
	}
}

func first(s string, lines int) string {
	parts := strings.SplitN(s, "\n", lines+1)
	return strings.Join(parts[:min(lines, len(parts))], "\n")
}

// Read renders every run of a results directory (its row without timings,
// its metrics and its heads) as text, keyed by experiment/run id. Reading
// fails on any truncated Parquet file; a run recorded twice is an error.
func Read(t testing.TB, dir string) map[string]string {
	t.Helper()
	rs, err := table.ReadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	exps := map[string]bool{}
	for _, r := range rs {
		key := r.Experiment + "/" + r.ID
		if _, dup := out[key]; dup {
			t.Errorf("run %s recorded twice", key)
		}
		out[key] = fmt.Sprintf("%s %q diverged@%d steps %d tokens %d params %d",
			r.Status, r.Error, r.DivergedStep, r.Steps, r.TokensSeen, r.Params)
		for _, f := range config.FinalColumns() {
			v := r.Final(f.Name)
			out[key] += fmt.Sprintf(" %s %x %v", f.Name, math.Float64bits(v.Value), v.Proxy)
		}
		out[key] += "\n"
		exps[r.Experiment] = true
	}
	for exp := range exps {
		ms, err := table.ReadMetrics(dir, exp)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			out[exp+"/"+m.RunID] += fmt.Sprintf("m %d %s %d %x %d %d %x %v\n", m.Step, m.Metric, m.K, math.Float64bits(m.Eps), m.Layer, m.Head, math.Float64bits(m.Value), m.IsProxy)
		}
		hs, err := table.ReadHeads(dir, exp)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			out[exp+"/"+h.RunID] += fmt.Sprintf("h %d %d %d %d %x %x\n", h.Step, h.Layer, h.Head, h.K, math.Float64bits(h.Alpha), math.Float64bits(h.SinkPercent))
		}
	}
	return out
}

// AssertClean checks that a finished batch left no temporary files and no
// checkpoints in its results directory.
func AssertClean(t testing.TB, out string) {
	t.Helper()
	filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(path, ".tmp") || strings.Contains(path, "checkpoints")) {
			t.Errorf("left behind: %s", path)
		}
		return nil
	})
}
