package results

import (
	"bytes"
	"encoding/csv"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// sumRun is a finished run of experiment exp with the given attention and seed.
func sumRun(exp, attn string, seed int64, sink, loss float64) table.Run {
	return table.Run{
		ID: exp + attn + strconv.FormatInt(seed, 10), Experiment: exp,
		Settings: []config.Column{
			{Name: "model_attention", Value: attn},
			{Name: "measure_eps", Value: "0.3"},
			{Name: "seed", Value: seed},
		},
		Varied:       []config.Setting{{Path: "model.attention", Value: attn}, {Path: "seed", Value: strconv.FormatInt(seed, 10)}},
		Status:       "done",
		DivergedStep: -1,
		Finals: map[string]config.FinalValue{
			"final_sink1": {Value: sink}, "final_val_loss": {Value: loss}, "final_massive": {Value: 100},
			"final_mean_alpha1": {Value: 0.5}, "final_sink_slot": {Value: math.NaN()},
		},
	}
}

func summaryRuns() []table.Run {
	a1 := sumRun("attn", "softmax", 1, 10, 2.0)
	a2 := sumRun("attn", "softmax", 2, 20, 3.0)
	s1 := sumRun("attn", "sigmoid", 1, 5, 2.5)
	s1.SetFinal("final_sink1", s1.Final("final_sink1").Value, true)
	s2 := sumRun("attn", "sigmoid", 2, math.NaN(), math.NaN())
	s2.Status, s2.Error, s2.DivergedStep = "diverged", "loss is NaN", 50
	s2.SetFinal("final_sink1", s2.Final("final_sink1").Value, true)
	b := sumRun("bos", "softmax", 1, 60, 1.5)
	b.Varied = []config.Setting{{Path: "data.first_token", Value: "fixed"}}
	// Interleaved: rows keep the order of first appearance.
	return []table.Run{a1, s1, b, a2, s2}
}

func TestSummary(t *testing.T) {
	runs := summaryRuns()
	tests := []struct {
		format Format
		want   []string // substrings, in order
	}{
		{Table, []string{
			"experiment attn", "attention", "val loss", "Sink_1 % (eps 0.3)", "alpha_1", "massive", "n", "status",
			"softmax", "2.500", "15.00 ± 7.07", "0.500", "100.0", "2", "done",
			"sigmoid", "2.500", "5.00*", "2", "1/2 diverged",
			ProxyFootnote,
			"experiment bos", "first_token", "fixed", "1.500", "60.00", "1", "done",
		}},
		{Markdown, []string{
			"### attn", "| attention | val loss | Sink_1 % (eps 0.3) | alpha_1 | massive | n | status |",
			"|---|---:|---:|---:|---:|---:|---|",
			"| softmax | 2.500 | 15.00 ± 7.07 | 0.500 | 100.0 | 2 | done |",
			"| sigmoid | 2.500 | 5.00* | 0.500 | 100.0 | 2 | 1/2 diverged |",
			`\` + ProxyFootnote,
			"### bos", "| first_token |", "| fixed | 1.500 | 60.00 | 0.500 | 100.0 | 1 | done |",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.format.String(), func(t *testing.T) {
			out, _ := summaryHas(t, runs, tc.format, tc.want)
			if strings.Contains(out, "seed") {
				t.Errorf("seed shown as an axis:\n%s", out)
			}
			if strings.Count(out, ProxyFootnote) != 1 {
				t.Errorf("want one proxy footnote (attn only):\n%s", out)
			}
		})
	}
}

// TestSummaryNewSetting: a run written before a setting existed (no column)
// and one with the setting at its zero value (off) are one cell; a non-zero
// value is another.
func TestSummaryNewSetting(t *testing.T) {
	old := sumRun("attn", "softmax", 1, 10, 2.0)
	withZero := sumRun("attn", "softmax", 2, 20, 3.0)
	withZero.Settings = append(withZero.Settings, config.Column{Name: "train_layer_drop", Value: 0.0}, config.Column{Name: "data_corpus_lags", Value: int64(0)})
	on := sumRun("attn", "softmax", 3, 90, 3.0)
	on.Settings = append(on.Settings, config.Column{Name: "train_layer_drop", Value: 0.5})
	if groupKey(old) != groupKey(withZero) {
		t.Errorf("absent and zero settings differ: %q, %q", groupKey(old), groupKey(withZero))
	}
	if groupKey(old) == groupKey(on) || groupKey(withZero) == groupKey(on) {
		t.Errorf("layer_drop 0.5 grouped with no layer_drop: %q", groupKey(on))
	}
	summaryHas(t, []table.Run{old, withZero}, Table, []string{"softmax", "15.00 ± 7.07", "2"})
}

func TestSummaryCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummary(&buf, summaryRuns(), CSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The axes, each summary column of the catalogue (these among them, in
	// this order), then eps, n, n_done and status.
	known := []string{"val_loss_mean", "val_loss_sd", "sink1_mean", "sink1_sd", "sink1_is_proxy",
		"sink_slot_mean", "sink_slot_sd", "sink_slot_is_proxy", "mean_alpha1_mean", "mean_alpha1_sd", "massive_mean", "massive_sd"}
	wantHeader := []string{"experiment", "attention", "first_token"}
	for _, c := range summaryColumns(nil, nil) {
		wantHeader = append(wantHeader, c.CSV+"_mean", c.CSV+"_sd")
		if c.proxy {
			wantHeader = append(wantHeader, c.CSV+"_is_proxy")
		}
	}
	wantHeader = append(wantHeader, "eps", "n", "n_done", "status")
	if !reflect.DeepEqual(recs[0], wantHeader) {
		t.Fatalf("header %v, want %v", recs[0], wantHeader)
	}
	col := map[string]int{}
	var order []string
	for i, h := range recs[0] {
		col[h] = i
		if slices.Contains(known, h) {
			order = append(order, h)
		}
	}
	if !slices.Equal(order, known) {
		t.Fatalf("header %v: the catalogue's summary columns %v, want %v", recs[0], order, known)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want header + 3 rows: %v", len(recs), recs)
	}
	softmax := recs[1]
	if softmax[0] != "attn" || softmax[1] != "softmax" || softmax[2] != "" {
		t.Errorf("row 1 = %v", softmax)
	}
	mean, _ := strconv.ParseFloat(softmax[col["sink1_mean"]], 64)
	sd, _ := strconv.ParseFloat(softmax[col["sink1_sd"]], 64)
	if mean != 15 || math.Abs(sd-math.Sqrt(50)) > 1e-12 { // (10-15)²+(20-15)² over n-1=1
		t.Errorf("softmax sink1 = %v ± %v, want 15 ± 7.0711", mean, sd)
	}
	if got := recs[2]; got[1] != "sigmoid" || got[col["sink1_mean"]] != "5" || got[col["sink1_sd"]] != "" || got[col["sink1_is_proxy"]] != "true" ||
		got[col["val_loss_mean"]] != "2.5" || got[col["n"]] != "2" || got[col["n_done"]] != "1" || got[col["status"]] != "1/2 diverged" {
		t.Errorf("sigmoid row = %v", got)
	}
	if got := recs[3]; got[0] != "bos" || got[2] != "fixed" || got[col["sink1_is_proxy"]] != "false" || got[col["status"]] != "done" {
		t.Errorf("bos row = %v", got)
	}
	for _, r := range recs[1:] {
		if r[col["sink_slot_mean"]] != "" || r[col["sink_slot_sd"]] != "" || r[col["sink_slot_is_proxy"]] != "false" {
			t.Errorf("sink_slot without a slot: %v", r)
		}
	}
}

func TestSummaryEdgeCases(t *testing.T) {
	// All seeds diverged: no numbers, so no metric columns; status "diverged".
	a := sumRun("e", "softmax", 1, math.NaN(), math.NaN())
	b := sumRun("e", "softmax", 2, math.NaN(), math.NaN())
	a.Status, b.Status = "diverged", "diverged"
	var buf bytes.Buffer
	if err := WriteSummary(&buf, []table.Run{a, b}, Markdown); err != nil {
		t.Fatal(err)
	}
	if want := "| attention | n | status |\n|---|---:|---|\n| softmax | 2 | diverged |"; !strings.Contains(buf.String(), want) {
		t.Errorf("missing %q in\n%s", want, buf.String())
	}
	// Runs read from disk without settings group by their varied values.
	c, d := a, b
	c.Settings, d.Settings = nil, nil
	c.Status, d.Status = "done", "failed"
	c.SetFinal("final_sink1", 1, false)
	buf.Reset()
	if err := WriteSummary(&buf, []table.Run{c, d}, Markdown); err != nil {
		t.Fatal(err)
	}
	if want := "| softmax | Sink_1 % |"; strings.Contains(buf.String(), want) {
		t.Errorf("eps header without settings:\n%s", buf.String())
	}
	if want := "| softmax | 1.00 | 0.500 | 100.0 | 2 | 1/2 failed |"; !strings.Contains(buf.String(), want) { // no val loss: none measured
		t.Errorf("missing %q in\n%s", want, buf.String())
	}
	for _, f := range []Format{Table, Markdown, CSV} {
		buf.Reset()
		if err := WriteSummary(&buf, nil, f); err != nil {
			t.Errorf("%v: %v", f, err)
		}
	}
	if err := WriteSummary(&buf, nil, Format(9)); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestShortNames(t *testing.T) {
	got := shortNames([]string{"model.norm.eps", "train.optimizer.eps", "model.attention", "train.optimizer.lr", "seed"})
	want := []string{"norm.eps", "optimizer.eps", "attention", "lr", "seed"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("shortNames = %v, want %v", got, want)
	}
	got = shortNames([]string{"a.x.eps", "b.x.eps"})
	if want := []string{"a.x.eps", "b.x.eps"}; !reflect.DeepEqual(got, want) {
		t.Errorf("shortNames = %v, want %v", got, want)
	}
}

func TestParseFormat(t *testing.T) {
	for s, want := range map[string]Format{"table": Table, "md": Markdown, "Markdown": Markdown, "csv": CSV} {
		if f, err := ParseFormat(s); err != nil || f != want {
			t.Errorf("ParseFormat(%q) = %v, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("html"); err == nil {
		t.Error("ParseFormat(html) succeeded")
	}
}

// slotRuns has a slot score (Sink*) in experiment "bias" only: the slot
// column appears there, with the proxy marker where the scores are proxies,
// and not in "plain". A failed run's zero final_sink_slot does not count.
func slotRuns() []table.Run {
	k1 := sumRun("bias", "softmax", 1, 10, 2.0)
	k2 := sumRun("bias", "softmax", 2, 20, 3.0)
	k1.SetFinal("final_sink_slot", 70, false)
	k2.SetFinal("final_sink_slot", 80, false)
	g1 := sumRun("bias", "sigmoid", 1, 5, 2.5)
	g1.SetFinal("final_sink_slot", 40, true)
	g1.SetFinal("final_sink1", 5, true)
	n := sumRun("bias", "none", 1, 30, 2.0) // no slot in this cell
	p := sumRun("plain", "softmax", 1, 60, 1.5)
	f := sumRun("plain", "softmax", 2, math.NaN(), math.NaN())
	f.Status, f.Error = "failed", "out of memory"
	f.SetFinal("final_sink_slot", 0, false)
	return []table.Run{k1, k2, g1, n, p, f}
}

func TestSummarySlot(t *testing.T) {
	runs := slotRuns()
	for _, tc := range []struct {
		format Format
		want   []string // substrings, in order
	}{
		{Table, []string{
			"experiment bias", "Sink_1 % (eps 0.3)", "Sink* %", "n", "status",
			"softmax", "15.00 ± 7.07", "75.00 ± 7.07", "2", "done",
			"sigmoid", "5.00*", "40.00*", "1", "done",
			"none", "30.00", "-", "1", "done",
			ProxyFootnote, "experiment plain",
		}},
		{Markdown, []string{
			"### bias", "| attention | val loss | Sink_1 % (eps 0.3) | Sink* % | alpha_1 | massive | n | status |",
			"|---|---:|---:|---:|---:|---:|---:|---|",
			"| softmax | 2.500 | 15.00 ± 7.07 | 75.00 ± 7.07 | 0.500 | 100.0 | 2 | done |",
			"| sigmoid | 2.500 | 5.00* | 40.00* | 0.500 | 100.0 | 1 | done |",
			"| none | 2.000 | 30.00 | - | 0.500 | 100.0 | 1 | done |",
			`\` + ProxyFootnote,
			"### plain", "| attention | val loss | Sink_1 % (eps 0.3) | alpha_1 | massive | n | status |",
			"| softmax | 1.500 | 60.00 | 0.500 | 100.0 | 2 | 1/2 failed |",
		}},
	} {
		t.Run(tc.format.String(), func(t *testing.T) {
			out, rest := summaryHas(t, runs, tc.format, tc.want)
			if strings.Contains(rest, "Sink*") {
				t.Errorf("Sink* column in experiment plain:\n%s", out)
			}
		})
	}

	var buf bytes.Buffer
	if err := WriteSummary(&buf, runs, CSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	slotAt := slices.Index(recs[0], "sink_slot_mean")
	if slotAt < 0 || recs[0][slotAt+1] != "sink_slot_sd" {
		t.Fatalf("header %v", recs[0])
	}
	want := [][2]string{{"75", "7.0710678118654755"}, {"40", ""}, {"", ""}, {"", ""}}
	if len(recs) != 1+len(want) {
		t.Fatalf("%d records, want %d: %v", len(recs), 1+len(want), recs)
	}
	for i, w := range want {
		if got := [2]string{recs[i+1][slotAt], recs[i+1][slotAt+1]}; got != w {
			t.Errorf("row %d (%v): sink_slot = %v, want %v", i+1, recs[i+1], got, w)
		}
	}
}

// summaryHas writes the summary of runs and checks that it holds the want
// pieces in order; it returns the summary and what follows the last piece.
func summaryHas(t *testing.T, runs []table.Run, f Format, want []string) (out, rest string) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSummary(&buf, runs, f); err != nil {
		t.Fatal(err)
	}
	out = buf.String()
	rest = out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("missing %q (in order) in:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
	return out, rest
}
