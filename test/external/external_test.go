package external

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/table"
)

// The Node.js check needs `node` and the packages of package-lock.json
// (CI: `(cd test/external && npm ci --no-audit --no-fund)`); without them
// the test is skipped, unless SINKRUN_EXTERNAL=1 demands it.
func TestExternalReaders(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	here := filepath.Dir(self)
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(here, "node_modules", "@duckdb", "node-api"))
	}
	if err != nil {
		if os.Getenv("SINKRUN_EXTERNAL") == "1" {
			t.Fatalf("SINKRUN_EXTERNAL=1 but the external readers are not installed: %v", err)
		}
		t.Skipf("external readers not installed (%v): run `cd test/external && npm ci`", err)
	}

	dir := t.TempDir()
	rs, err := WriteSynthetic(dir)
	if err != nil {
		t.Fatal(err)
	}
	exp := expectations(t, dir, rs)
	exp["docs"] = filepath.Join(here, "..", "..", "docs", "results.md")
	b, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	expPath := filepath.Join(t.TempDir(), "expect.json")
	if err := os.WriteFile(expPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--test-reporter=spec", "check.mjs", expPath)
	cmd.Dir = here
	out, err := cmd.CombinedOutput()
	t.Logf("node check.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("external readers disagree with the documented schema: %v", err)
	}
}

// expectations describes what WriteSynthetic wrote, for check.mjs.
func expectations(t *testing.T, dir string, rs []SynthRun) map[string]any {
	t.Helper()
	counts := map[string]map[string]int{table.TableRuns: {}, table.TableMetrics: {}, table.TableHeads: {}, table.TableMaps: {}}
	var files, runs []map[string]any
	slotRuns, mapSlotRuns := []string{}, []string{}
	for _, r := range rs {
		run := r.Run
		seed, _ := results.Seed(run)
		var sink any
		if v := run.Final("final_sink1").Value; !math.IsNaN(v) {
			sink = v
		}
		var diverged any
		if run.DivergedStep >= 0 {
			diverged = run.DivergedStep
		}
		var slot any
		if v := run.Final("final_sink_slot").Value; !math.IsNaN(v) {
			slot = v
		}
		for _, m := range r.Metrics {
			if m.Metric == config.MetricSink && m.K == 0 {
				slotRuns = append(slotRuns, run.ID)
				break
			}
		}
		for _, m := range r.Maps {
			if m.Key < 0 {
				mapSlotRuns = append(mapSlotRuns, run.ID)
				break
			}
		}
		runs = append(runs, map[string]any{
			"run_id": run.ID, "experiment": run.Experiment, "status": run.Status, "seed": seed,
			"grid_index": run.GridIndex, "diverged_step": diverged, "final_sink1": sink,
			"final_sink1_is_proxy": run.Final("final_sink1").Proxy, "final_sink_slot": slot,
			"started_us": run.StartedAt.UnixMicro(), "config_hash": run.ConfigHash,
		})
		for tbl, n := range map[string]int{table.TableRuns: 1, table.TableMetrics: len(r.Metrics), table.TableHeads: len(r.Heads),
			table.TableMaps: len(r.Maps)} {
			if tbl == table.TableMaps && n == 0 {
				continue // no maps file
			}
			counts[tbl][run.Experiment] += n
			files = append(files, map[string]any{
				"table": tbl, "experiment": run.Experiment, "path": table.Path(dir, tbl, run.Experiment, run.ID),
				"rows": n, "run_id": run.ID, "config_hash": run.ConfigHash, "version": run.ToolVersion,
				"git_revision": run.GitRevision, "seed": seed,
			})
		}
	}
	// Every file on disk is expected, and nothing else is there.
	var onDisk int
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			onDisk++
		}
		return nil
	})
	if onDisk != len(files) {
		t.Fatalf("%d Parquet files on disk, %d expected", onDisk, len(files))
	}
	return map[string]any{
		"dir": dir, "counts": counts, "files": files, "runs": runs, "slotRuns": slotRuns, "mapSlotRuns": mapSlotRuns,
		"settingColumns": len(config.Flatten(config.Default())),
	}
}
