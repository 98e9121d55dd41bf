package plot

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// shapeStudy is the results of an experiment at a model shape, without
// training: 3 variants x 2 seeds, Sink_1, Sink_2 and the slot's Sink* at
// every 100 steps, per-head alpha_1 and per-layer norm ratios.
func shapeStudy(layers, heads int) ([]table.Run, []table.Metric, []table.Head) {
	var runs []table.Run
	var metrics []table.Metric
	var hs []table.Head
	for vi, variant := range []string{"softmax", "sigmoid(z: sum)", "scaled_softmax"} {
		for seed := 1; seed <= 2; seed++ {
			id := fmt.Sprintf("%d%d", vi, seed)
			runs = append(runs, table.Run{ID: id, Experiment: "shape", Status: table.StatusDone,
				Varied:   []config.Setting{{Path: "model.attention", Value: variant}},
				Settings: []config.Column{{Name: "model_attention", Value: variant}, {Name: "seed", Value: int64(seed)}, {Name: "measure_eps", Value: "0.3"}}})
			for step := int64(0); step <= 500; step += 100 {
				tok := step * 1024
				level := float64(step) / 5 / float64(vi+1)
				for _, k := range []int32{0, 1, 2} {
					metrics = append(metrics, table.Metric{RunID: id, Step: step, TokensSeen: tok, Metric: config.MetricSink,
						K: k, Eps: 0.3, Layer: -1, Head: -1, Value: math.Min(100, level/float64(k+1)+float64(seed))})
				}
				metrics = append(metrics,
					table.Metric{RunID: id, Step: step, TokensSeen: tok, Metric: config.MetricMeanAlpha, K: 1, Eps: math.NaN(), Layer: -1, Head: -1, Value: level / 100},
					table.Metric{RunID: id, Step: step, TokensSeen: tok, Metric: config.MetricValLoss, K: -1, Eps: math.NaN(), Layer: -1, Head: -1, Value: 3 - level/100})
				for l := 0; l < layers; l++ {
					for _, m := range []string{config.MetricMassiveHidden, config.MetricMassiveKey, config.MetricMassiveValue} {
						metrics = append(metrics, table.Metric{RunID: id, Step: step, TokensSeen: tok, Metric: m, K: -1, Eps: math.NaN(),
							Layer: int32(l), Head: -1, Value: 1 + float64(l+seed)*float64(vi+1)})
					}
					for h := 0; h < heads; h++ {
						hs = append(hs, table.Head{RunID: id, Step: step, TokensSeen: tok, Layer: int32(l), Head: int32(h), K: 1,
							Alpha: math.Mod(float64(l*heads+h)*0.37+float64(seed)*0.1, 1)})
					}
				}
			}
		}
	}
	return runs, metrics, hs
}

// TestFiguresAtShapes draws an experiment's figures at 1, 4 and 32 layers
// and 1, 4 and 32 heads (SINKRUN_PLOT_DIR keeps the PNGs to look at):
// every measured sink score has its emergence figure; a one-layer model's
// norm ratios are one point per variant on a variant axis (not a dot on an
// axis from -1 to 1); heat maps of one layer keep a colour bar tall enough
// for its labels; captions say what the lines, bands and bars are.
func TestFiguresAtShapes(t *testing.T) {
	keep := os.Getenv("SINKRUN_PLOT_DIR")
	for _, shape := range [][2]int{{1, 1}, {1, 4}, {1, 32}, {4, 4}, {4, 32}, {32, 4}, {32, 32}} {
		layers, heads := shape[0], shape[1]
		name := fmt.Sprintf("%dL%dH", layers, heads)
		t.Run(name, func(t *testing.T) {
			runs, metrics, hs := shapeStudy(layers, heads)
			figs, err := ExperimentFigures(runs, metrics, hs)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*Figure{}
			for _, f := range figs {
				byName[f.Name] = f.Figure
			}
			for _, want := range []string{FileSink1, FileSinkK + "2", FileSinkSlot, FileAlpha1, FileValLoss, FileMassive,
				"heads/alpha1_attention=softmax_seed1"} {
				if byName[want] == nil {
					t.Errorf("no figure %s", want)
				}
			}
			sinks := 0
			for name := range byName {
				if strings.HasPrefix(name, FileSinkK) {
					sinks++
				}
			}
			if sinks != 3 { // Sink_1 (FileSink1 is FileSinkK + "1"), Sink_2 and Sink*
				t.Errorf("%d sink figures, want 3: %v", sinks, figs)
			}
			svg := func(f *Figure) string {
				var b bytes.Buffer
				if err := f.WriteTo(&b, SVG); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			massive := svg(byName[FileMassive])
			if layers == 1 {
				for _, want := range []string{">softmax<", ">sigmoid(z: sum)<", ">attention<", "points: mean over seeds; bars: ± 1 sd", ", one layer"} {
					if !strings.Contains(massive, want) {
						t.Errorf("one-layer massive figure lacks %q", want)
					}
				}
				if strings.Contains(massive, ">-1<") || strings.Contains(massive, ">layer<") {
					t.Error("one-layer massive figure has a layer axis")
				}
			} else if !strings.Contains(massive, ">layer<") || !strings.Contains(massive, seedBandNote) {
				t.Errorf("the %d-layer massive figure is not lines over layers with bands", layers)
			}
			if s := svg(byName[FileSinkK+"2"]); !strings.Contains(s, "Sink_2 during training") || !strings.Contains(s, seedBandNote) {
				t.Error("the Sink_2 figure has no title or caption")
			}
			heat := byName["heads/alpha1_attention=softmax_seed1"]
			if heat != nil && heat.Height < minBar {
				t.Errorf("heat map %v tall, less than its colour bar's %v", heat.Height, minBar)
			}
			dir := keep
			if dir == "" {
				dir = t.TempDir()
			}
			for _, f := range figs {
				files, err := f.Figure.Save(filepath.Join(dir, name, f.Name), PNG)
				if err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(files[0])
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w < 300 || h < 300 || w > 6000 || h > 4000 {
					t.Errorf("%s: %dx%d px", f.Name, w, h)
				}
			}
		})
	}
}
