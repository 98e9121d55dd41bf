package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/plot"
	"github.com/sinkrun/sinkrun/results/table"
)

// A study for the HTML report: alpha's eps-0 runs diverge (AdamW with eps 0
// divides 0 by 0), so one claim holds and one cannot be evaluated; beta
// measures Sink_2 and has no claims.
const htmlStudy = `experiment alpha {
  model { layers 1; heads 2; d_model 16 }
  data { corpus bigram_backcopy(vocab: 64, triggers: 2); context 16 }
  train { steps 30; batch 4; seeds [1, 2]; schedule constant(warmup: 5) }
  measure { every 10; probe_sequences 8; probe_length 16; val_batches 2 }
  vary train.optimizer.eps [0, 1e-8]
  expect {
    sink_1(runs: min)[eps: 1e-8] >= 0
    val_loss[eps: 0] < 100
  }
}

experiment beta {
  model { layers 1; heads 2; d_model 16 }
  data { corpus bigram_backcopy(vocab: 16, triggers: 2); context 16 }
  train { steps 20; batch 4 }
  measure { every 10; probe_sequences 4; probe_length 16; val_batches 1; sink [1, 2] }
}
`

// TestHTMLReportInBrowser: `sinkrun run --html` keeps a page of the batch;
// headless Chromium renders it, and test/browser/check.mjs checks what a
// reader sees: every figure decoded, the results tables with a column for
// each measured metric, the verdicts, the diverged runs with their errors,
// no console errors and no request outside the file. It needs Node.js,
// test/browser's packages and /usr/bin/chromium (Debian's chromium); it is
// skipped without them unless SINKRUN_BROWSER=1 makes it required (CI).
func TestHTMLReportInBrowser(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	browserDir := filepath.Join(filepath.Dir(self), "..", "..", "test", "browser")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(browserDir, "node_modules", "playwright-core"))
	}
	if err == nil {
		_, err = os.Stat(chromiumPath())
	}
	if err != nil {
		if os.Getenv("SINKRUN_BROWSER") == "1" {
			t.Fatalf("SINKRUN_BROWSER=1 but the browser check cannot run: %v (make test installs chromium and test/browser's packages)", err)
		}
		t.Skipf("no browser check (%v): apt-get install chromium; cd test/browser && npm ci", err)
	}

	sink := writeSink(t, htmlStudy)
	dir := t.TempDir()
	out, page := filepath.Join(dir, "res"), filepath.Join(dir, "report.html")
	code, _, stderr := runCLI("run", sink, "--out", out, "--html", page, "--progress", "lines", "--warn-expect")
	if code != exitOK || !strings.Contains(stderr, "HTML report in "+page) {
		t.Fatalf("run --html: exit %d\n%s", code, stderr)
	}
	text := readFile(t, page)
	if strings.Contains(text, `http-equiv="refresh"`) || !strings.Contains(text, "5 of 5 runs finished") {
		t.Errorf("the page written at the end of the batch reloads itself, or does not count every run")
	}

	exps, err := compiler.CompileFiles([]string{sink})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	for _, x := range exps {
		e := map[string]any{"figures": figureCount(t, out, x.Name), "columns": []string{"sink_1 %", "alpha_1", "val_loss", "massive", "n"}}
		switch x.Name {
		case "alpha":
			e["rows"], e["verdicts"], e["problems"] = 2, []string{"pass", "n/a"}, []string{"diverged", "diverged"}
		case "beta":
			e["rows"], e["columns"] = 1, []string{"sink_1 %", "sink_2 %", "alpha_1", "val_loss", "train_loss", "massive_key", "massive_value"}
		}
		want[x.Name] = e
	}
	shot := os.Getenv("SINKRUN_BROWSER_SCREENSHOT") // a PNG of the page's first screen, to look at
	b, err := json.Marshal(map[string]any{"page": page, "experiments": want, "screenshot": shot})
	if err != nil {
		t.Fatal(err)
	}
	expect := filepath.Join(dir, "expect.json")
	if err := os.WriteFile(expect, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "check.mjs", expect)
	cmd.Dir = browserDir
	cmd.Env = append(os.Environ(), "SINKRUN_CHROMIUM="+chromiumPath())
	report, err := cmd.CombinedOutput()
	t.Logf("node check.mjs:\n%s", report)
	if err != nil {
		t.Fatalf("the page does not render as it should in Chromium: %v", err)
	}
}

func chromiumPath() string {
	if p := os.Getenv("SINKRUN_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// figureCount is how many figures plot draws for the experiment's runs:
// the page must show every one.
func figureCount(t *testing.T, dir, exp string) int {
	t.Helper()
	runs, err := table.ReadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ = onlyExperiments(runs, experimentNames{exp})
	results.SortRuns(runs)
	metrics, err := table.ReadMetrics(dir, exp)
	if err != nil {
		t.Fatal(err)
	}
	heads, err := table.ReadHeads(dir, exp)
	if err != nil {
		t.Fatal(err)
	}
	maps, err := table.ReadMaps(dir, exp)
	if err != nil {
		t.Fatal(err)
	}
	figs, err := plot.ExperimentFigures(runs, metrics, heads)
	if err != nil {
		t.Fatal(err)
	}
	mfigs, err := plot.MapFigures(runs, heads, maps, plot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return len(figs) + len(mfigs)
}

// TestLivePage: the page of a batch is written before any run finishes
// (asking browsers to reload it), rewritten after runs finish, and written
// a last time, without the reload, when the batch ends.
func TestLivePage(t *testing.T) {
	sink := writeSink(t, twoExperiments)
	exps, err := compiler.CompileFiles([]string{sink})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, path := filepath.Join(dir, "res"), filepath.Join(dir, "page.html")
	p := newLivePage(path, out, exps, os.Stderr)
	p.write(livePageRefresh)
	if text := readFile(t, path); !strings.Contains(text, "0 of 2 runs finished") || !strings.Contains(text, `http-equiv="refresh" content="30"`) {
		t.Fatalf("the first page:\n%.600s", text)
	}
	if code, _, stderr := runCLI("run", sink, "--out", out, "--progress", "lines"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	p.changed()
	deadline := time.Now().Add(livePageGap + 30*time.Second)
	for !strings.Contains(readFile(t, path), "2 of 2 runs finished") {
		if time.Now().After(deadline) {
			t.Fatal("the page was not rewritten after runs finished")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(readFile(t, path), `http-equiv="refresh"`) {
		t.Error("a page rewritten during the batch does not reload itself")
	}
	p.finish()
	if text := readFile(t, path); strings.Contains(text, `http-equiv="refresh"`) || !strings.Contains(text, "2 of 2 runs finished") {
		t.Error("the last page reloads itself, or lost the runs")
	}
}
