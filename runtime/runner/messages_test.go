package runner

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/trainer"
)

// TestBatchLines: one short start line per run, the data described once
// for the batch, every measured Sink_k in a finished run's line, the latest
// sink figure in its progress line, and plurals that agree with their count.
func TestBatchLines(t *testing.T) {
	src := strings.NewReplacer("seeds [1, 2]", "seeds [1]", "val_batches 2", "val_batches 2; sink [1, 2, 3]").Replace(grid)
	exps := compileSrc(t, src)
	o, text, err := run(t, exps, Options{Out: t.TempDir(), Jobs: 1})
	if err != nil || o.Done != 2 {
		t.Fatalf("%v %+v\n%s", err, o, text)
	}
	if n := strings.Count(text, "data: bigram_backcopy"); n != 1 {
		t.Errorf("the data is described %d times, want once:\n%s", n, text)
	}
	starts := regexp.MustCompile(`(?m)^\[\d/2\] grid train\.optimizer\.lr=\S+ seed=1: training run-[0-9a-f]{16} \(30 steps\)$`).FindAllString(text, -1)
	if len(starts) != 2 {
		t.Errorf("want 2 start lines of the form `[i/2] grid ...: training run-ID (30 steps)`:\n%s", text)
	}
	done := regexp.MustCompile(`(?m)^\[1/2\] .*: done in .*\): Sink_1 \d+\.\d\d%, Sink_2 \d+\.\d\d%, Sink_3 \d+\.\d\d%, val loss \d`)
	if !done.MatchString(text) {
		t.Errorf("no done line with Sink_1, Sink_2 and Sink_3:\n%s", text)
	}
	if !regexp.MustCompile(`(?m)^\[1/2\] .*: step 30/30 Sink_1 \d+\.\d% loss \d+\.\d+ `).MatchString(text) {
		t.Errorf("no progress line with the latest Sink_1:\n%s", text)
	}
	if !strings.Contains(text, "2 runs to train (0 have results)") {
		t.Errorf("no batch start line:\n%s", text)
	}
	one := compileSrc(t, strings.NewReplacer("seeds [1, 2]", "seeds [1]", "vary train.optimizer.lr [1e-3, 3e-3]", "").Replace(grid))
	_, text, err = run(t, one, Options{Out: t.TempDir(), Jobs: 1})
	if err != nil || !strings.Contains(text, "1 run to train (0 have results)") || !strings.Contains(text, "batch: 1 of 1 run finished") {
		t.Errorf("plurals of one run: %v\n%s", err, text)
	}
}

// TestSinkFigures: the slot's Sink* first, then every k, at the last step
// and the first eps only; proxy scores marked.
func TestSinkFigures(t *testing.T) {
	m := func(step int64, k int32, eps, v float64) table.Metric {
		return table.Metric{Step: step, Metric: config.MetricSink, K: k, Eps: eps, Value: v, Layer: -1, Head: -1}
	}
	metrics := []table.Metric{
		m(10, 1, 0.3, 1), m(10, 1, 0.5, 1), m(20, 2, 0.3, 7), m(20, 1, 0.3, 50), m(20, 0, 0.3, 99), m(20, 1, 0.5, 3),
		{Step: 20, Metric: config.MetricValLoss, K: -1, Eps: math.NaN(), Value: 2},
	}
	if got, want := sinkFigures(metrics), "Sink* 99.00%, Sink_1 50.00%, Sink_2 7.00%"; got != want {
		t.Errorf("sinkFigures = %q, want %q", got, want)
	}
	proxy := []table.Metric{m(5, 1, 0.3, 4)}
	proxy[0].IsProxy = true
	if got, want := sinkFigures(proxy), "Sink_1 4.00% (proxy)"; got != want {
		t.Errorf("a proxy score: %q, want %q", got, want)
	}
}

// TestKeepWeightsOnSkipped: --keep-weights on runs that are skipped says
// that it kept nothing, and counts them.
func TestKeepWeightsOnSkipped(t *testing.T) {
	exps := compileSrc(t, strings.NewReplacer("seeds [1, 2]", "seeds [1]", "vary train.optimizer.lr [1e-3, 3e-3]", "").Replace(grid))
	out := t.TempDir()
	if _, _, err := run(t, exps, Options{Out: out, Jobs: 1}); err != nil {
		t.Fatal(err)
	}
	o, text, err := run(t, exps, Options{Out: out, Jobs: 1, KeepWeights: true})
	if err != nil || o.Skipped != 1 || o.NotKept != 1 ||
		!strings.Contains(text, "skipped; its weights were not kept when it trained, and a skipped run keeps nothing; --force re-runs") {
		t.Errorf("%v %+v\n%s", err, o, text)
	}
	// Kept by a --force run: skipping it later is no news.
	if o, _, err = run(t, exps, Options{Out: out, Jobs: 1, KeepWeights: true, Force: true}); err != nil || o.Done != 1 {
		t.Fatalf("%v %+v", err, o)
	}
	if o, text, err = run(t, exps, Options{Out: out, Jobs: 1, KeepWeights: true}); err != nil || o.NotKept != 0 || strings.Contains(text, "not kept") {
		t.Errorf("weights kept before: %v %+v\n%s", err, o, text)
	}
}

// The bars of runs whose labels differ in length start in one column.
func TestBarsAligned(t *testing.T) {
	var buf bytes.Buffer
	d := newDisplay(&buf, "bar")
	d.width = func() int { return 200 }
	d.start(0, "[1/2] short")
	d.start(1, "[2/2] a much longer label")
	d.lastDraw = time.Time{} // redraw now, not 100 ms after the last
	d.progress(0, trainer.Progress{Step: 5, Steps: 30, Loss: 2.5, Measured: true, Sink1: 12.5, SinkSlot: math.NaN()})
	d.lastDraw = time.Time{}
	d.progress(1, trainer.Progress{Step: 6, Steps: 30, Loss: 2.5, Measured: true, Sink1: 3, SinkSlot: 80, SinkProxy: true})
	lines := screen(t, buf.String(), 200)
	if len(lines) != 2 {
		t.Fatalf("screen:\n%s", strings.Join(lines, "\n"))
	}
	if a, b := strings.IndexRune(lines[0], '█'), strings.IndexRune(lines[1], '█'); a != b || a < 0 {
		t.Errorf("bars start at bytes %d and %d:\n%s", a, b, strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[0], "step 5/30 Sink_1 12.5% loss 2.5000 ") || !strings.Contains(lines[1], "step 6/30 Sink* 80.0%* Sink_1 3.0%* loss 2.5000 ") {
		t.Errorf("sink figures:\n%s", strings.Join(lines, "\n"))
	}
}
