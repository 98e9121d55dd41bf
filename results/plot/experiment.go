package plot

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/table"
)

// Options select what Experiment and All draw.
type Options struct {
	// Formats are the image formats written (DefaultFormats if empty).
	Formats []string
	// Experiments, if set, restricts All to these experiments.
	Experiments []string
	// Layer and Head choose the head whose attention map (maps table) is
	// drawn for every run that has one. Nil: the run's head with the largest
	// alpha_1 at its last measurement (layer 0, head 0 without heads rows).
	Layer, Head *int
}

// Figure files written per experiment, under <out>/<experiment>/:
const (
	FileSink1     = "emergence_sink1"     // Sink_1 % vs training tokens, one line per variant
	FileAlpha1    = "emergence_alpha1"    // mean alpha_1 vs training tokens, with the uniform-attention level
	FileStrongest = "emergence_strongest" // the strongest head's alpha_1 vs training tokens
	FileValLoss   = "val_loss"            // validation loss vs training tokens
	FileMassive   = "massive"             // massive-activation ratios per layer at the last measurement
	FileSinkK     = "emergence_sink"      // emergence_sink<k>: Sink_k % vs training tokens, for each measured k > 1
	FileSinkSlot  = "emergence_sink_slot" // Sink* % (the slot's score) vs training tokens, for models with a slot
	DirHeads      = "heads"               // heads/alpha1_<variant>_seed<N>: layer x head alpha_1 per run
	DirMaps       = "maps"                // maps/attention_<variant>_seed<N>_L<layer>H<head>: probe sequence 0's attention map per run
	proxyNote     = "* proxy score on row-normalised attention maps"
	seedBandNote  = "lines: mean over seeds; bands: ± 1 sd"
)

// ExperimentDir is the directory of one experiment's figures under out.
func ExperimentDir(out, experiment string) string {
	return filepath.Join(out, url.PathEscape(experiment))
}

// All reads the results under dir and writes every experiment's figures
// under out/<experiment>/. It returns the files written, in order; an
// experiment whose runs have no measurements gets no figures.
func All(dir, out string, opts Options) ([]string, error) {
	runs, err := table.ReadRuns(dir)
	if err != nil {
		return nil, err
	}
	results.SortRuns(runs)
	var kept []table.Run
	seen := map[string]bool{}
	for _, r := range runs {
		if len(opts.Experiments) > 0 && !contains(opts.Experiments, r.Experiment) {
			continue
		}
		kept = append(kept, r)
		seen[r.Experiment] = true
	}
	for _, e := range opts.Experiments {
		if !seen[e] {
			return nil, fmt.Errorf("plot: no runs of experiment %q in %s", e, dir)
		}
	}
	return Runs(dir, out, kept, opts)
}

// Runs writes the figures of every experiment that has a run in runs,
// drawing exactly those runs (in the order given, which should be grid
// order: a batch's runs as `sinkrun run` lists them, or results.SortRuns)
// and reading their metrics and heads tables from dir. opts.Experiments is
// ignored. `sinkrun run` calls it at the end of a batch.
func Runs(dir, out string, runs []table.Run, opts Options) ([]string, error) {
	var exps []string
	byExp := map[string][]table.Run{}
	for _, r := range runs {
		if byExp[r.Experiment] == nil {
			exps = append(exps, r.Experiment)
		}
		byExp[r.Experiment] = append(byExp[r.Experiment], r)
	}
	var written []string
	for _, e := range exps {
		files, err := Experiment(dir, out, byExp[e], opts)
		written = append(written, files...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// Experiment writes the figures of one experiment's runs (all of the same
// experiment, in grid order: see results.SortRuns), reading their metrics
// and heads tables from dir.
func Experiment(dir, out string, runs []table.Run, opts Options) ([]string, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	exp := runs[0].Experiment
	metrics, err := table.ReadMetrics(dir, exp)
	if err != nil {
		return nil, err
	}
	heads, err := table.ReadHeads(dir, exp)
	if err != nil {
		return nil, err
	}
	figs, err := ExperimentFigures(runs, metrics, heads)
	if err != nil {
		return nil, err
	}
	maps, err := table.ReadMaps(dir, exp)
	if err != nil {
		return nil, err
	}
	mfigs, err := MapFigures(runs, heads, maps, opts)
	if err != nil {
		return nil, err
	}
	figs = append(figs, mfigs...)
	base := ExperimentDir(out, exp)
	var written []string
	for _, f := range figs {
		files, err := f.Figure.Save(filepath.Join(base, f.Name), opts.Formats...)
		written = append(written, files...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// NamedFigure is a figure and its file name (without extension) relative
// to the experiment's figure directory.
type NamedFigure struct {
	Name   string
	Figure *Figure
}

// ExperimentFigures builds the figures of one experiment from its runs and
// their metrics and heads rows. Figures without data are left out.
func ExperimentFigures(runs []table.Run, metrics []table.Metric, heads []table.Head) ([]NamedFigure, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	exp := runs[0].Experiment
	variants := results.Variants(runs)
	byRun := map[string][]table.Metric{}
	for _, m := range metrics {
		byRun[m.RunID] = append(byRun[m.RunID], m)
	}
	var figs []NamedFigure
	add := func(name string, f *Figure, err error) error {
		if errors.Is(err, errNoData) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("plot: %s %s: %w", exp, name, err)
		}
		figs = append(figs, NamedFigure{name, f})
		return nil
	}

	// Emergence of Sink_1 at each run's first eps.
	eps, sameEps := commonEps(runs)
	var sink []Series
	anyProxy, anyBand := false, false
	for _, v := range variants {
		s, proxy := sink1Curve(v, byRun)
		if proxy {
			s.Label += " *"
			anyProxy = true
		}
		anyBand = anyBand || s.Lo != nil
		sink = append(sink, s)
	}
	yl := "Sink_1 (%)"
	if sameEps {
		yl = fmt.Sprintf("Sink_1 (%%), eps = %g", eps)
	}
	f, err := lineFigure(Panel{
		Title:  "experiment " + exp + ": Sink_1 during training",
		XLabel: "training tokens", YLabel: yl, Series: sink, XAxis: AxisTokens,
		YFromZero: true, YMaxAtLeast: 5,
	}, notes(anyProxy, anyBand))
	if err := add(FileSink1, f, err); err != nil {
		return nil, err
	}

	// Every other measured sink score: Sink* of a model with a slot, and
	// Sink_k of each measured position k > 1 (measure.sink, a fixed
	// token's position, ...), one figure each.
	for _, k := range sinkPositions(runs, byRun) {
		if k == 1 {
			continue
		}
		var ss []Series
		anyProxy, anyBand := false, false
		for _, v := range variants {
			s, proxy := sinkCurve(v, byRun, int32(k))
			if proxy {
				s.Label += " *"
				anyProxy = true
			}
			anyBand = anyBand || s.Lo != nil
			ss = append(ss, s)
		}
		name, what := fmt.Sprintf("Sink_%d", k), fmt.Sprintf("%s%d", FileSinkK, k)
		if k == 0 {
			name, what = "Sink*", FileSinkSlot
		}
		yl := name + " (%)"
		if sameEps {
			yl = fmt.Sprintf("%s (%%), eps = %g", name, eps)
		}
		title := "experiment " + exp + ": " + name + " during training"
		if k == 0 {
			title = "experiment " + exp + ": Sink* (the slot column's score) during training"
		}
		f, err := lineFigure(Panel{
			Title:  title,
			XLabel: "training tokens", YLabel: yl, Series: ss, XAxis: AxisTokens,
			YFromZero: true, YMaxAtLeast: 5,
		}, notes(anyProxy, anyBand))
		if err := add(what, f, err); err != nil {
			return nil, err
		}
	}

	// Mean alpha_1, with the level of uniform causal attention.
	var alpha []Series
	anyProxy, anyBand = false, false
	for _, v := range variants {
		s, proxy := curve(v, byRun, func(_ table.Run, m table.Metric) bool {
			return m.Metric == config.MetricMeanAlpha && m.K == 1 && m.Layer < 0
		})
		if proxy {
			s.Label += " *"
			anyProxy = true
		}
		anyBand = anyBand || s.Lo != nil
		alpha = append(alpha, s)
	}
	pa := Panel{
		Title:  "experiment " + exp + ": mean α₁ during training",
		XLabel: "training tokens", YLabel: "mean α₁ over layers and heads", Series: alpha, XAxis: AxisTokens,
	}
	if T, ok := commonProbeLength(runs); ok {
		pa.HLines = []HLine{{Y: harmonic(T) / float64(T), Label: fmt.Sprintf("uniform attention (T = %d)", T)}}
	}
	f, err = lineFigure(pa, notes(anyProxy, anyBand))
	if err := add(FileAlpha1, f, err); err != nil {
		return nil, err
	}

	// The strongest head's alpha_1 (the largest over layers and heads): a
	// sink that grows in one head shows here long before it moves the mean.
	headsAt := map[string]map[int64]*table.Head{} // run, step: the strongest head
	for i, h := range heads {
		if h.K != 1 {
			continue
		}
		if headsAt[h.RunID] == nil {
			headsAt[h.RunID] = map[int64]*table.Head{}
		}
		if top := headsAt[h.RunID][h.Step]; top == nil || h.Alpha > top.Alpha {
			headsAt[h.RunID][h.Step] = &heads[i]
		}
	}
	var strong []Series
	anyProxy, anyBand = false, false
	for _, v := range variants {
		byStep := map[int64][]float64{}
		tokensAt := map[int64]int64{}
		for _, r := range v.Runs {
			for step, h := range headsAt[r.ID] {
				if finite(h.Alpha) {
					byStep[step] = append(byStep[step], h.Alpha)
				}
				tokensAt[step] = h.TokensSeen
				anyProxy = anyProxy || h.IsProxy
			}
		}
		steps := make([]int64, 0, len(byStep))
		for st := range byStep {
			steps = append(steps, st)
		}
		sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
		xs, vals := make([]float64, len(steps)), make([][]float64, len(steps))
		for i, st := range steps {
			xs[i], vals[i] = float64(tokensAt[st]), byStep[st]
		}
		s := meanSeries(v.Label, xs, vals)
		anyBand = anyBand || s.Lo != nil
		if len(xs) > 0 {
			strong = append(strong, s)
		}
	}
	if len(strong) > 0 {
		ps := Panel{
			Title:  "experiment " + exp + ": the strongest head's α₁ during training",
			XLabel: "training tokens", YLabel: "largest α₁ over layers and heads", Series: strong, XAxis: AxisTokens,
			HLines: []HLine{{Y: eps, Label: fmt.Sprintf("eps = %g", eps)}},
		}
		if !sameEps {
			ps.HLines = nil
		}
		f, err = lineFigure(ps, notes(anyProxy, anyBand))
		if err := add(FileStrongest, f, err); err != nil {
			return nil, err
		}
	}

	// Validation loss.
	var loss []Series
	anyBand = false
	for _, v := range variants {
		s, _ := curve(v, byRun, func(_ table.Run, m table.Metric) bool { return m.Metric == config.MetricValLoss })
		anyBand = anyBand || s.Lo != nil
		loss = append(loss, s)
	}
	f, err = lineFigure(Panel{
		Title:  "experiment " + exp + ": validation loss",
		XLabel: "training tokens", YLabel: "validation loss (nats/token)", Series: loss, XAxis: AxisTokens,
	}, notes(false, anyBand))
	if err := add(FileValLoss, f, err); err != nil {
		return nil, err
	}

	// Every per-layer ratio of the metric catalogue (the massive
	// activations) at each run's last measurement, a panel each.
	f, err = massiveFigure(exp, variants, byRun)
	if err := add(FileMassive, f, err); err != nil {
		return nil, err
	}

	// Layer x head alpha_1 of every run at its last measurement.
	headsByRun := map[string][]table.Head{}
	for _, h := range heads {
		if h.K == 1 {
			headsByRun[h.RunID] = append(headsByRun[h.RunID], h)
		}
	}
	used := map[string]bool{}
	for _, v := range variants {
		for _, r := range v.Runs {
			z, step, tokens, proxy := headMatrix(headsByRun[r.ID])
			if z == nil {
				continue
			}
			who, name := runFigureName(exp, v, r, "alpha1_", "", used)
			title := fmt.Sprintf("α₁ per head at step %d (%s tokens)\n%s", step, SI(float64(tokens)), who)
			note := fmt.Sprintf("run-%s; α₁ averaged over the probe sequences", shortID(r.ID))
			if proxy {
				note += "; proxy (row-normalised maps)"
			}
			if r.Status != table.StatusDone && r.Status != "" {
				note += "; run " + string(r.Status)
			}
			f, err := HeadHeatmap(title, z, note)
			if err := add(filepath.Join(DirHeads, name), f, err); err != nil {
				return nil, err
			}
		}
	}
	return figs, nil
}

// sinkPositions is every position k whose Sink_k the runs measured at
// their first eps, in order, 0 (the slot) first.
func sinkPositions(runs []table.Run, byRun map[string][]table.Metric) []int {
	seen := map[int]bool{}
	for _, r := range runs {
		eps := runEps(r, byRun[r.ID])
		for _, m := range byRun[r.ID] {
			if m.Metric == config.MetricSink && m.Layer < 0 && m.K >= 0 && sameFloat(m.Eps, eps) {
				seen[int(m.K)] = true
			}
		}
	}
	ks := make([]int, 0, len(seen))
	for k := range seen {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// massiveFigure is the first token's norm ratios (hidden state, key,
// value) at each run's last measurement: per layer, one line per variant,
// or for one-layer models, where a line would be a lone dot on an empty
// axis, one point per variant with its ± sd bar.
func massiveFigure(exp string, variants []results.Variant, byRun map[string][]table.Metric) (*Figure, error) {
	// Every per-layer metric of the catalogue, a panel each.
	type kind struct{ metric, title, unit string }
	var kinds []kind
	for _, m := range config.Metrics() {
		if m.Table == config.MetricsTable && slices.Equal(m.Coords, []string{config.CoordLayer}) {
			title := m.Title
			if _, in, ok := strings.Cut(strings.TrimSuffix(title, ")"), "("); ok {
				title = in // "massive activation (keys)": "keys"
			}
			kinds = append(kinds, kind{m.Name, title, m.Unit})
		}
	}
	// The y label is the catalogue's unit, short ("norm ratio"): gonum
	// places a log axis's label by the arithmetic middle of its range, and a
	// long one pushes the data area down from the panel's title.
	const what = "first-token norm ratios"
	const ratio = "norm ratio: token 1's norm over the other tokens' mean"
	series := make([][]Series, len(kinds))
	layers, seeds := 0, 0
	for i, mk := range kinds {
		for _, v := range variants {
			s := perLayer(v, byRun, mk.metric)
			series[i] = append(series[i], s)
			layers = max(layers, len(s.X))
		}
	}
	for _, v := range variants {
		seeds = max(seeds, len(v.Runs))
	}
	if layers == 1 {
		var panels []DotPanel
		anyBar := false
		axis, labels := categoryLabels(variants)
		for i, mk := range kinds {
			dp := DotPanel{Title: mk.title, XLabel: axis, YLabel: mk.unit, LogY: true, HLines: []HLine{{Y: 1}}}
			for j, s := range series[i] {
				dp.Labels = append(dp.Labels, labels[j])
				y, lo, hi := math.NaN(), math.NaN(), math.NaN()
				if len(s.Y) == 1 {
					y = s.Y[0]
					if s.Lo != nil {
						lo, hi = s.Lo[0], s.Hi[0]
						anyBar = true
					}
				}
				dp.Y, dp.Lo, dp.Hi = append(dp.Y, y), append(dp.Lo, lo), append(dp.Hi, hi)
			}
			panels = append(panels, dp)
		}
		note := ratio + "; points: one run per variant"
		if seeds > 1 {
			note = ratio + "; points: mean over seeds"
			if anyBar {
				note += "; bars: ± 1 sd"
			}
		}
		note += "; dashed: ratio 1, no massive activation"
		return Dots(DotChart{Title: "experiment " + exp + ": " + what + " at the last measurement, one layer", Panels: panels, Note: note})
	}
	var panels []Panel
	anyBand := false
	for i, mk := range kinds {
		for _, s := range series[i] {
			anyBand = anyBand || s.Lo != nil
		}
		panels = append(panels, Panel{Title: mk.title, XLabel: "layer", YLabel: mk.unit, Series: series[i],
			XAxis: AxisInteger, LogY: true, HLines: []HLine{{Y: 1, Label: "ratio 1"}}})
	}
	return Lines(LineChart{Title: "experiment " + exp + ": " + what + " per layer at the last measurement",
		Panels: panels, Note: ratio + ";  " + notes(false, anyBand), PanelWidth: 4.2 * vg.Inch, Height: 3.8 * vg.Inch})
}

// categoryLabels names variants on a category axis: by their values, with
// the axis name as the axis label, when one axis tells them apart
// ("attention" and "softmax", "sigmoid(z: sum)"); else by their labels.
func categoryLabels(variants []results.Variant) (axis string, labels []string) {
	for i, v := range variants {
		name, value, ok := strings.Cut(v.Label, "=")
		if !ok || strings.Contains(value, ", ") || (i > 0 && name != axis) {
			labels = labels[:0]
			for _, v := range variants {
				labels = append(labels, v.Label)
			}
			return "variant", labels
		}
		axis = name
		labels = append(labels, value)
	}
	return axis, labels
}

// MapFigures builds, for every run with maps rows, the attention map of probe
// sequence 0 at the final measurement for the layer and head chosen by
// opts.Layer and opts.Head (see Options). Masked entries are drawn grey.
func MapFigures(runs []table.Run, heads []table.Head, maps []table.Map, opts Options) ([]NamedFigure, error) {
	if len(runs) == 0 || len(maps) == 0 {
		return nil, nil
	}
	exp := runs[0].Experiment
	mapsByRun := map[string][]table.Map{}
	for _, m := range maps {
		mapsByRun[m.RunID] = append(mapsByRun[m.RunID], m)
	}
	headsByRun := map[string][]table.Head{}
	for _, h := range heads {
		if h.K == 1 {
			headsByRun[h.RunID] = append(headsByRun[h.RunID], h)
		}
	}
	var figs []NamedFigure
	used := map[string]bool{}
	for _, v := range results.Variants(runs) {
		for _, r := range v.Runs {
			ms := mapsByRun[r.ID]
			if len(ms) == 0 {
				continue
			}
			layer, head := topHead(headsByRun[r.ID])
			if opts.Layer != nil {
				layer = *opts.Layer
			}
			if opts.Head != nil {
				head = *opts.Head
			}
			att, step, slot := attentionMatrix(ms, layer, head)
			if att == nil {
				continue
			}
			who, name := runFigureName(exp, v, r, "attention_", fmt.Sprintf("_L%dH%d", layer, head), used)
			title := fmt.Sprintf("attention of probe sequence 0, layer %d head %d, step %d\n%s", layer, head, step, who)
			if slot {
				title += " (first column: slot)"
			}
			f, err := AttentionMap(title, att, nil)
			if err != nil {
				return nil, fmt.Errorf("plot: %s %s: %w", exp, name, err)
			}
			figs = append(figs, NamedFigure{Name: filepath.Join(DirMaps, name), Figure: f})
		}
	}
	return figs, nil
}

// runFigureName is how a figure of one run of variant v names the run in
// its title (experiment, variant and seed) and its file name:
// prefix + variant + "_seed<N>" + suffix, with the run id added where that
// is already in used (which it records).
func runFigureName(exp string, v results.Variant, r table.Run, prefix, suffix string, used map[string]bool) (who, name string) {
	who, name = exp, prefix+fileSafe(v.Label)
	if v.Label != exp {
		who += ": " + v.Label
	}
	if seed, ok := results.Seed(r); ok {
		who += fmt.Sprintf(", seed %d", seed)
		name += fmt.Sprintf("_seed%d", seed)
	}
	name += suffix
	if used[name] {
		name += "_" + r.ID
	}
	used[name] = true
	return who, name
}

// topHead is the layer and head with the largest alpha_1 at the last step of
// a run's heads rows (K = 1), or 0, 0 without rows.
func topHead(hs []table.Head) (layer, head int) {
	var step int64 = -1
	for _, h := range hs {
		step = max(step, h.Step)
	}
	best := math.Inf(-1)
	for _, h := range hs {
		if h.Step == step && h.Layer >= 0 && h.Head >= 0 && h.Alpha > best {
			best, layer, head = h.Alpha, int(h.Layer), int(h.Head)
		}
	}
	return layer, head
}

// attentionMatrix is the map of one layer and head at the last step of a
// run's maps rows: att[query][column], the slot (key -1) in column 0 when
// there is one. Entries without a row (masked keys) and zero entries above
// the causal diagonal are NaN. nil when the head has no rows.
func attentionMatrix(ms []table.Map, layer, head int) (att [][]float64, step int64, slot bool) {
	step = -1
	var T int32
	for _, m := range ms {
		if int(m.Layer) == layer && int(m.Head) == head {
			step = max(step, m.Step)
		}
	}
	for _, m := range ms {
		if m.Step == step && int(m.Layer) == layer && int(m.Head) == head {
			T = max(T, m.Query+1, m.Key+1)
			slot = slot || m.Key < 0
		}
	}
	if step < 0 || T == 0 {
		return nil, 0, false
	}
	off := 0
	if slot {
		off = 1
	}
	att = make([][]float64, T)
	for q := range att {
		att[q] = make([]float64, int(T)+off)
		for j := range att[q] {
			att[q][j] = math.NaN()
		}
	}
	for _, m := range ms {
		if m.Step != step || int(m.Layer) != layer || int(m.Head) != head || m.Key < -1 || m.Query < 0 {
			continue
		}
		if m.Key > m.Query && m.Weight == 0 {
			continue // masked by the causal mask
		}
		att[m.Query][int(m.Key)+off] = m.Weight
	}
	return att, step, slot
}

func lineFigure(p Panel, note string) (*Figure, error) {
	return Lines(LineChart{Panels: []Panel{p}, Note: note})
}

func notes(proxy, band bool) string {
	parts := []string{"lines: one run per variant"}
	if band {
		parts = []string{seedBandNote}
	}
	if proxy {
		parts = append(parts, proxyNote)
	}
	return strings.Join(parts, ";  ")
}

// sink1Curve is a variant's Sink_1 (%) at each run's first eps over
// training tokens (see curve). A percentage lies in [0, 100], and so does its
// band: mean ± sd of, say, 0 and 100 would reach from -21 to 121.
func sink1Curve(v results.Variant, byRun map[string][]table.Metric) (Series, bool) {
	return sinkCurve(v, byRun, 1)
}

// sinkCurve is sink1Curve for position k (0: the slot's Sink*).
func sinkCurve(v results.Variant, byRun map[string][]table.Metric, k int32) (Series, bool) {
	s, proxy := curve(v, byRun, func(r table.Run, m table.Metric) bool {
		return m.Metric == config.MetricSink && m.K == k && m.Layer < 0 && sameFloat(m.Eps, runEps(r, byRun[r.ID]))
	})
	for i := range s.Lo {
		s.Lo[i], s.Hi[i] = max(s.Lo[i], 0), min(s.Hi[i], 100)
	}
	return s, proxy
}

// curve is a variant's metric over training tokens: the mean over its runs
// at each step, with a ± sd band when more than one run has the step. It
// also reports whether any selected row is a proxy score.
func curve(v results.Variant, byRun map[string][]table.Metric, keep func(table.Run, table.Metric) bool) (Series, bool) {
	type acc struct {
		tokens int64
		vals   []float64
	}
	steps := map[int64]*acc{}
	proxy := false
	for _, r := range v.Runs {
		for _, m := range byRun[r.ID] {
			if !keep(r, m) {
				continue
			}
			proxy = proxy || m.IsProxy
			a := steps[m.Step]
			if a == nil {
				a = &acc{tokens: m.TokensSeen}
				steps[m.Step] = a
			}
			if finite(m.Value) {
				a.vals = append(a.vals, m.Value)
			}
		}
	}
	order := make([]int64, 0, len(steps))
	for s := range steps {
		order = append(order, s)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	xs, vals := make([]float64, len(order)), make([][]float64, len(order))
	for i, st := range order {
		xs[i], vals[i] = float64(steps[st].tokens), steps[st].vals
	}
	return meanSeries(v.Label, xs, vals), proxy
}

// perLayer is a variant's per-layer metric at each run's last measurement
// of it, averaged over runs.
func perLayer(v results.Variant, byRun map[string][]table.Metric, metric string) Series {
	vals := map[int32][]float64{}
	for _, r := range v.Runs {
		last := int64(-1)
		for _, m := range byRun[r.ID] {
			if m.Metric == metric && m.Layer >= 0 && m.Step > last {
				last = m.Step
			}
		}
		for _, m := range byRun[r.ID] {
			if m.Metric == metric && m.Layer >= 0 && m.Step == last && finite(m.Value) {
				vals[m.Layer] = append(vals[m.Layer], m.Value)
			}
		}
	}
	layers := make([]int32, 0, len(vals))
	for l := range vals {
		layers = append(layers, l)
	}
	sort.Slice(layers, func(i, j int) bool { return layers[i] < layers[j] })
	xs, ys := make([]float64, len(layers)), make([][]float64, len(layers))
	for i, l := range layers {
		xs[i], ys[i] = float64(l), vals[l]
	}
	return meanSeries(v.Label, xs, ys)
}

// meanSeries is the line through the mean of vals[i] at xs[i], with a ± sd
// band when some point has two or more values.
func meanSeries(label string, xs []float64, vals [][]float64) Series {
	s := Series{Label: label, X: xs}
	band := false
	for _, vs := range vals {
		mean, sd := meanSD(vs)
		s.Y = append(s.Y, mean)
		s.Lo = append(s.Lo, mean-sd)
		s.Hi = append(s.Hi, mean+sd)
		band = band || finite(sd)
	}
	if !band {
		s.Lo, s.Hi = nil, nil
	}
	return s
}

// headMatrix is [layer][head] alpha at the rows' last step (NaN where a
// head is missing), or nil when there are no rows.
func headMatrix(hs []table.Head) (z [][]float64, step, tokens int64, proxy bool) {
	if len(hs) == 0 {
		return nil, 0, 0, false
	}
	step = -1
	for _, h := range hs {
		if h.Step > step {
			step, tokens = h.Step, h.TokensSeen
		}
	}
	var layers, nheads int32
	for _, h := range hs {
		if h.Step == step && h.Layer >= 0 && h.Head >= 0 {
			layers, nheads = max(layers, h.Layer+1), max(nheads, h.Head+1)
		}
	}
	if layers == 0 {
		return nil, 0, 0, false
	}
	z = make([][]float64, layers)
	for l := range z {
		z[l] = make([]float64, nheads)
		for h := range z[l] {
			z[l][h] = math.NaN()
		}
	}
	for _, h := range hs {
		if h.Step == step && h.Layer >= 0 && h.Head >= 0 {
			z[h.Layer][h.Head] = h.Alpha
			proxy = proxy || h.IsProxy
		}
	}
	return z, step, tokens, proxy
}

// meanSD is the mean and sample standard deviation (NaN for fewer than two
// values) of vs; the mean is NaN for no values.
func meanSD(vs []float64) (float64, float64) {
	if len(vs) == 0 {
		return math.NaN(), math.NaN()
	}
	var sum float64
	for _, v := range vs {
		sum += v
	}
	mean := sum / float64(len(vs))
	if len(vs) < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, v := range vs {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(vs)-1))
}

// runEps is the eps at which the run reports Sink_1: its first measure.eps,
// else the smallest eps of its sink rows.
func runEps(r table.Run, ms []table.Metric) float64 {
	if e, ok := results.FirstEps(r); ok {
		return e
	}
	best := math.NaN()
	for _, m := range ms {
		if m.Metric == config.MetricSink && m.K == 1 && finite(m.Eps) && (math.IsNaN(best) || m.Eps < best) {
			best = m.Eps
		}
	}
	return best
}

func commonEps(runs []table.Run) (float64, bool) {
	var eps float64
	for i, r := range runs {
		e, ok := results.FirstEps(r)
		if !ok || (i > 0 && e != eps) {
			return 0, false
		}
		eps = e
	}
	return eps, true
}

func commonProbeLength(runs []table.Run) (int, bool) {
	T := int64(0)
	for i, r := range runs {
		t, ok := results.SettingInt(r, "measure_probe_length")
		if !ok || t <= 0 || (i > 0 && t != T) {
			return 0, false
		}
		T = t
	}
	return int(T), true
}

// harmonic is H_n = 1 + 1/2 + ... + 1/n: uniform causal attention gives
// alpha_1 = H_T / T.
func harmonic(n int) float64 {
	h := 0.0
	for i := 1; i <= n; i++ {
		h += 1 / float64(i)
	}
	return h
}

func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}

// fileSafe turns a variant label into a file name part.
func fileSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '=':
			b.WriteRune(c)
		default: // separators, brackets, anything else
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteRune('_')
			}
		}
	}
	out := strings.Trim(b.String(), "_")
	if len(out) > 100 {
		out = out[:100]
	}
	if out == "" {
		out = "run"
	}
	return out
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
