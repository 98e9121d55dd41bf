package results

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// TestEmergenceReport writes runs whose Sink_1 is step/2 and whose heads'
// alpha_1 grow with the step and the layer, and checks the section's values
// at 1/8, 1/4, 1/2 and the end of each cell, averaged over its seeds.
func TestEmergenceReport(t *testing.T) {
	exps, err := compiler.Compile(map[string][]byte{"e.sink": []byte(`experiment grow {
  model { heads 2; d_model 16 }
  train { steps 80; batch 2; seeds [1, 2] }
  data { context 64 }
  measure { every 10 }
  vary model.layers [1, 2]
}`)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, r := range exps[0].Runs {
		if i == 3 { // layers 2, seed 2 did not finish
			continue
		}
		run := table.NewRun(r, "go", time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC))
		run.Status = table.StatusDone
		var metrics []table.Metric
		var heads []table.Head
		for step := int64(0); step <= 80; step += 10 {
			tok := step * 128
			metrics = append(metrics,
				table.Metric{RunID: run.ID, Step: step, TokensSeen: tok, Metric: config.MetricSink, K: 1, Eps: 0.3, Layer: -1, Head: -1, Value: float64(step)/2 + float64(r.Seed)},
				table.Metric{RunID: run.ID, Step: step, TokensSeen: tok, Metric: config.MetricValLoss, K: -1, Eps: math.NaN(), Layer: -1, Head: -1, Value: 3 - float64(step)/40})
			for l := range int32(r.Model.Layers) {
				for h := range int32(2) {
					heads = append(heads, table.Head{RunID: run.ID, Step: step, TokensSeen: tok, Layer: l, Head: h, K: 1,
						Alpha: 0.1 + float64(step)/1000 + 0.1*float64(l) + 0.01*float64(h)})
				}
			}
		}
		if err := table.Write(dir, run, metrics, heads); err != nil {
			t.Fatal(err)
		}
	}
	reports, err := EmergenceReport(dir, exps)
	if err != nil {
		t.Fatal(err)
	}
	want := `| layers | tokens | Sink_1 % at 1/8 · 1/4 · 1/2 · end | strongest head alpha_1 at 1/8 · 1/4 · 1/2 · end | strongest head per layer at the end | val loss | n |
|---|---:|---|---|---|---:|---:|
| 1 | 10k | 6.50 · 11.50 · 21.50 · 41.50 | 0.120 · 0.130 · 0.150 · 0.190 | 0.19 | 1.000 | 2/2 |
| 2 | 10k | 6.00 · 11.00 · 21.00 · 41.00 | 0.220 · 0.230 · 0.250 · 0.290 | 0.19 / 0.29 | 1.000 | 1/2 |
`
	if len(reports) != 1 || reports[0].Experiment != "grow emergence" || !strings.HasPrefix(reports[0].Markdown, want) {
		t.Errorf("got %q:\n%s\nwant a prefix:\n%s", reports[0].Experiment, reports[0].Markdown, want)
	}
}
