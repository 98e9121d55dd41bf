package htmlreport

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

const study = `experiment study {
  model { layers 1; heads 2; d_model 16 }
  train { steps 100; seeds [1, 2] }
  measure { eps [0.3, 0.5]; sink [2] }
  vary model.bias [none, k]
  expect {
    sink_1(runs: min)[bias: none] > 50
    sink_star[bias: k] > 90
  }
}
`

// writeStudy writes results for the study's runs without training: Sink_1
// 91 and 92 without a bias, 0 with the key bias (its slot 80), Sink_2 0,
// massive ratios 5 and 20 (over the layers' values: the table shows 20), and
// the key-bias run of seed 2 failed.
func writeStudy(t *testing.T) (string, []*compiler.Experiment) {
	t.Helper()
	exps, err := compiler.Compile(map[string][]byte{"study.sink": []byte(study)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, r := range exps[0].Runs {
		run := table.NewRun(r, "go", time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC))
		run.Status = table.StatusDone
		bias := r.Model.Bias.Kind == "k"
		if bias && r.Seed == 2 {
			run.Status, run.Error = table.StatusFailed, "building the model: out of memory"
			if err := table.Write(dir, run, nil, nil); err != nil {
				t.Fatal(err)
			}
			continue
		}
		sink1 := 90 + float64(r.Seed)
		if bias {
			sink1 = 0
		}
		nan := math.NaN()
		m := func(step int64, metric string, k int32, eps float64, layer int32, v float64) table.Metric {
			return table.Metric{RunID: run.ID, Step: step, Metric: metric, K: k, Eps: eps, Layer: layer, Head: -1, Value: v}
		}
		var rows []table.Metric
		for _, step := range []int64{0, 100} {
			early := 0.0
			if step == 100 {
				early = 1
			}
			rows = append(rows,
				m(step, config.MetricSink, 1, 0.3, -1, early*sink1), m(step, config.MetricSink, 1, 0.5, -1, early*sink1/2),
				m(step, config.MetricSink, 2, 0.3, -1, 0), m(step, config.MetricSink, 2, 0.5, -1, 0),
				m(step, config.MetricMeanAlpha, 1, nan, -1, 0.4), m(step, config.MetricValLoss, -1, nan, -1, 1.2),
				m(step, config.MetricMassiveHidden, -1, nan, 0, 5), m(step, config.MetricMassiveHidden, -1, nan, 1, 20*early))
			if bias {
				rows = append(rows, m(step, config.MetricSink, 0, 0.3, -1, 80*early), m(step, config.MetricSink, 0, 0.5, -1, 70*early))
			}
		}
		if err := table.Write(dir, run, rows, nil); err != nil {
			t.Fatal(err)
		}
	}
	return dir, exps
}

func TestPage(t *testing.T) {
	dir, exps := writeStudy(t)
	var b bytes.Buffer
	if err := Write(&b, dir, exps, Options{Now: func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<title>sinkrun results: ", "4 of 4 runs finished", "written 2026-12-01 12:00:00 UTC",
		`<td><code>model.bias</code></td><td>none, k</td>`, "<td>seeds</td><td>1, 2</td>",
		// A column for every measured metric of the catalogue, in its order,
		// named as claims name it, eps by eps, the slot first.
		"<th>model.bias</th><th>val_loss</th><th>sink_star % (eps 0.3)</th><th>sink_star % (eps 0.5)</th><th>sink_1 % (eps 0.3)</th><th>sink_1 % (eps 0.5)</th>",
		"<th>sink_2 % (eps 0.3)</th><th>sink_2 % (eps 0.5)</th><th>alpha_1</th><th>massive</th><th>n</th><th>status</th>",
		// none: two seeds, mean ± sd; massive is the largest layer's.
		`<td class="num">91.50 ± 0.71</td>`, `<td class="num">20.0 ± 0.0</td>`, `<td class="num">2/2</td><td>done</td>`,
		// k: one of two finished.
		`<td class="num">80.00</td>`, `<td class="num">1/2</td><td>1 done, 1 failed</td>`,
		`<td class="verdict pass">pass</td><td><code>sink_1(runs: min)[bias: none] &gt; 50</code>`,
		"every run: each metric is its least favourable run&#39;s",
		`<td class="verdict na">n/a</td>`, "not evaluated: sink_star[bias: k]: a run failed",
		"Agreement: 1 of 2 claims hold, 1 not evaluated.",
		`<td class="verdict fail">failed</td>`, "<pre>building the model: out of memory</pre>",
		"docs/metrics.md",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, `http-equiv="refresh"`) {
		t.Error("a page without Refresh reloads itself")
	}
	// Self-contained: no URL but data: and the page's own anchors.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "data:") && !strings.HasPrefix(m[1], "#") {
			t.Errorf("the page refers to %q", m[1])
		}
	}
	if n := strings.Count(page, `<img src="data:image/png;base64,`); n < 5 {
		t.Errorf("%d inline figures, want at least the 5 line figures", n)
	}
	b.Reset()
	if err := Write(&b, dir, exps, Options{Refresh: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<meta http-equiv="refresh" content="30">`) {
		t.Error("Refresh does not make the page reload itself")
	}
}

// A results directory without any run yet (a batch that just started).
func TestPageBeforeResults(t *testing.T) {
	exps, err := compiler.Compile(map[string][]byte{"study.sink": []byte(study)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, t.TempDir()+"/none", exps, Options{}); err != nil {
		t.Fatal(err)
	}
	if page := b.String(); !strings.Contains(page, "0 of 4 runs finished") || !strings.Contains(page, "4 not finished") ||
		!strings.Contains(page, `<td class="num">0/2</td><td>not finished</td>`) {
		t.Errorf("page before any result:\n%s", page)
	}
}
