package plot_test

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/results/plot"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/test/external"
)

// checkImage checks that path is a non-empty PNG or SVG of plausible size.
func checkImage(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch filepath.Ext(path) {
	case ".png":
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if r := img.Bounds(); r.Dx() < 300 || r.Dy() < 200 {
			t.Errorf("%s: %dx%d px, too small", path, r.Dx(), r.Dy())
		}
	case ".svg":
		s := string(b)
		if !strings.Contains(s, "<svg") || !strings.Contains(s, "</svg>") || len(s) < 2000 {
			t.Errorf("%s: not a complete SVG (%d bytes)", path, len(s))
		}
	default:
		t.Errorf("unexpected file %s", path)
	}
}

// attention is a causal map of T tokens whose first column is a sink.
func attention(T int, sink float64) [][]float64 {
	a := make([][]float64, T)
	for t := range a {
		a[t] = make([]float64, T)
		for j := range a[t] {
			switch {
			case j > t:
				a[t][j] = math.NaN()
			case t == 0:
				a[t][j] = 1
			case j == 0:
				a[t][j] = sink
			default:
				a[t][j] = (1 - sink) / float64(t)
			}
		}
	}
	return a
}

func TestChartsWriteFiles(t *testing.T) {
	dir := t.TempDir()
	lines, err := plot.Lines(plot.LineChart{Panels: []plot.Panel{{
		Title: "Sink_1", XLabel: "training tokens", YLabel: "Sink_1 (%)", XAxis: plot.AxisTokens, YFromZero: true,
		Series: []plot.Series{
			{Label: "rope", X: []float64{0, 1e5, 2e5}, Y: []float64{0, 10, 40}, Lo: []float64{0, 5, 30}, Hi: []float64{0, 15, 50}},
			{Label: "nope *", X: []float64{0, 1e5, 2e5}, Y: []float64{0, math.NaN(), 20}},
		},
		HLines: []plot.HLine{{Y: 5, Label: "reference"}},
	}}, Note: "* proxy"})
	if err != nil {
		t.Fatal(err)
	}
	heat, err := plot.HeadHeatmap("alpha_1 per head", [][]float64{{0.1, 0.9}, {0.5, math.NaN()}, {0, 1}}, "note")
	if err != nil {
		t.Fatal(err)
	}
	tokens := strings.Split("T h e _ c a t _", "")
	tokens = slices.DeleteFunc(tokens, func(s string) bool { return s == " " })
	small, err := plot.AttentionMap("layer 2, head 1", attention(8, 0.6), tokens)
	if err != nil {
		t.Fatal(err)
	}
	big, err := plot.AttentionMap("layer 2, head 1, T = 64", attention(64, 0.4), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*plot.Figure{"lines": lines, "heat": heat, "attn8": small, "attn64": big} {
		files, err := f.Save(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 {
			t.Fatalf("%s: wrote %v, want a PNG and an SVG", name, files)
		}
		for _, p := range files {
			checkImage(t, p)
		}
	}
	if _, err := heat.Save(filepath.Join(dir, "x"), "pdf"); err == nil {
		t.Error("unknown format accepted")
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("stray file %s", e.Name())
		}
	}
}

func TestChartsRejectEmptyData(t *testing.T) {
	if _, err := plot.Lines(plot.LineChart{Panels: []plot.Panel{{Series: []plot.Series{{Label: "a", X: []float64{1}, Y: []float64{math.NaN()}}}}}}); err == nil {
		t.Error("Lines with no finite point succeeded")
	}
	if _, err := plot.HeadHeatmap("x", nil, ""); err == nil {
		t.Error("empty heat map succeeded")
	}
	if _, err := (plot.Heatmap{Z: [][]float64{{1, 2}, {3}}}).Figure(); err == nil {
		t.Error("ragged heat map succeeded")
	}
}

// All draws every figure of a results directory, from the Parquet files.
func TestAllFromResultsDir(t *testing.T) {
	dir := t.TempDir()
	if _, err := external.WriteSynthetic(dir); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "plots")
	files, err := plot.All(dir, out, plot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, f := range files {
		checkImage(t, f)
		r, _ := filepath.Rel(out, f)
		rel = append(rel, filepath.ToSlash(r))
	}
	for _, want := range []string{
		"positional/emergence_sink1.png", "positional/emergence_sink1.svg",
		"positional/emergence_alpha1.png", "positional/val_loss.svg", "positional/massive.png",
		"positional/heads/alpha1_position=rope_weight_decay=0.1_seed1.png",
		"positional/heads/alpha1_position=nope_weight_decay=0.5_seed2.svg",
		"attention/emergence_sink1.png", "attention/heads/alpha1_attention=softmax_seed2.png",
		"attention/heads/alpha1_attention=sigmoid_seed1.png",
		"attention/maps/attention_attention=softmax_seed1_L1H0.svg",
	} {
		if !slices.Contains(rel, want) {
			t.Errorf("missing %s in %v", want, rel)
		}
	}
	// The failed run has no measurements, so no heat map.
	if slices.Contains(rel, "attention/heads/alpha1_attention=sigmoid_seed2.png") {
		t.Error("heat map of a failed run")
	}
	// 8 + 3 runs with heads, 2 with maps (attention, not the diverged run),
	// 5 line figures per experiment, Sink_2 of both and attention's Sink*,
	// 2 formats each.
	if want := (11 + 2 + 2*5 + 3) * 2; len(files) != want {
		t.Errorf("%d files, want %d", len(files), want)
	}

	only, err := plot.All(dir, filepath.Join(dir, "only"), plot.Options{Experiments: []string{"attention"}, Formats: []string{plot.PNG}})
	if err != nil {
		t.Fatal(err)
	}
	if len(only) != 3+2+5+2 {
		t.Errorf("attention only, PNG only: %d files: %v", len(only), only)
	}
	if _, err := plot.All(dir, out, plot.Options{Experiments: []string{"nosuch"}}); err == nil {
		t.Error("unknown experiment accepted")
	}
}

// The per-variant curves average the seeds at each step.
func TestExperimentFiguresData(t *testing.T) {
	rs := external.Synthetic()
	var runs []table.Run
	var ms []table.Metric
	var hs []table.Head
	for _, r := range rs {
		if r.Run.Experiment == "attention" {
			runs = append(runs, r.Run)
			ms = append(ms, r.Metrics...)
			hs = append(hs, r.Heads...)
		}
	}
	figs, err := plot.ExperimentFigures(runs, ms, hs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	// The synthetic runs measure Sink_2 and have a slot: each its own figure.
	want := []string{plot.FileSink1, plot.FileSinkSlot, plot.FileSinkK + "2", plot.FileAlpha1, plot.FileStrongest, plot.FileValLoss, plot.FileMassive,
		"heads/alpha1_attention=softmax_seed1", "heads/alpha1_attention=softmax_seed2", "heads/alpha1_attention=sigmoid_seed1"}
	if !slices.Equal(names, want) {
		t.Errorf("figures %v, want %v", names, want)
	}
}

func TestSI(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 950: "950", 12000: "12k", 1.5e6: "1.5M", 2e9: "2G", 819200: "819k"} {
		if got := plot.SI(v); got != want {
			t.Errorf("SI(%v) = %q, want %q", v, got, want)
		}
	}
}

// Set PLOT_PREVIEW=DIR to write the figures of the synthetic study and of
// sample attention maps to DIR for a look.
func TestPreview(t *testing.T) {
	out := os.Getenv("PLOT_PREVIEW")
	if out == "" {
		t.Skip("set PLOT_PREVIEW=DIR to write sample figures")
	}
	dir := t.TempDir()
	if _, err := external.WriteSynthetic(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := plot.All(dir, out, plot.Options{}); err != nil {
		t.Fatal(err)
	}
	for name, T := range map[string]int{"attention_map_8": 8, "attention_map_64": 64} {
		var tokens []string
		if T == 8 {
			tokens = []string{"T", "h", "e", "␣", "c", "a", "t", "."}
		}
		f, err := plot.AttentionMap("attention map, layer 2 head 1", attention(T, 0.5), tokens)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Save(filepath.Join(out, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// A run with a maps file gets an attention-map figure for the chosen head
// (default: the head with the largest alpha_1) or for --layer/--head.
func TestAttentionMapFromMapsTable(t *testing.T) {
	dir := t.TempDir()
	var sr external.SynthRun
	for _, r := range external.Synthetic() {
		if r.Run.Experiment == "attention" && len(r.Heads) > 0 {
			sr = r
			break
		}
	}
	var maps []table.Map
	for l := int32(0); l < 2; l++ {
		for h := int32(0); h < 2; h++ {
			for q := int32(0); q < 6; q++ {
				for k := int32(-1); k <= q; k++ { // slot and the visible tokens
					maps = append(maps, table.Map{RunID: sr.Run.ID, Step: 100, Layer: l, Head: h, Query: q, Key: k, Weight: 1 / float64(q+2)})
				}
			}
		}
	}
	if err := table.WriteWithMaps(dir, sr.Run, sr.Metrics, sr.Heads, maps); err != nil {
		t.Fatal(err)
	}
	one := 1
	out := filepath.Join(dir, "plots")
	files, err := plot.All(dir, out, plot.Options{Formats: []string{plot.PNG}, Layer: &one, Head: &one})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		if strings.Contains(filepath.ToSlash(f), "/maps/") {
			got = append(got, f)
			checkImage(t, f)
		}
	}
	if len(got) != 1 || !strings.HasPrefix(filepath.Base(got[0]), "attention_") || !strings.HasSuffix(got[0], "_L1H1.png") {
		t.Errorf("attention maps %v, want one maps/attention_..._L1H1.png", got)
	}
	// Default head: drawn for whichever head has the largest alpha_1.
	figs, err := plot.MapFigures([]table.Run{sr.Run}, sr.Heads, maps, plot.Options{})
	if err != nil || len(figs) != 1 || !strings.HasPrefix(filepath.ToSlash(figs[0].Name), plot.DirMaps+"/attention_") {
		t.Errorf("MapFigures default head: %v, %v", figs, err)
	}
}
