// Package htmlreport writes one self-contained HTML page for a results
// directory: for each experiment its grid and settings, its expectations
// with their verdicts, a table of every measured metric per grid cell (mean
// ± sd over its finished runs), its figures inline, and its failed and
// diverged runs with their errors. The page needs no other file: figures
// are PNGs in data: URIs and the style sheet is inline. `sinkrun report
// --html` writes it once; `sinkrun run --html` rewrites it as runs finish.
package htmlreport

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/internal/atomicfile"
	"github.com/sinkrun/sinkrun/results"
	"github.com/sinkrun/sinkrun/results/plot"
	"github.com/sinkrun/sinkrun/results/table"
)

// Options shape the page.
type Options struct {
	// Title heads the page (default: "sinkrun results: DIR").
	Title string
	// Refresh, when positive, makes a browser reload the page this often:
	// for a page written while a batch runs.
	Refresh time.Duration
	// Now is the time the page says it was written (default time.Now).
	Now func() time.Time
}

// WriteFile writes the page of the experiments' results under dir to path,
// atomically (a reader never sees a partial page).
func WriteFile(path, dir string, exps []*config.Experiment, opts Options) error {
	var b bytes.Buffer
	if err := Write(&b, dir, exps, opts); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	return nil
}

// Write writes the page of the experiments' results under dir to w.
func Write(w io.Writer, dir string, exps []*config.Experiment, opts Options) error {
	p, err := build(dir, exps, opts)
	if err != nil {
		return err
	}
	return page.Execute(w, p)
}

// pageData is what the template shows.
type pageData struct {
	Title, Dir, Updated string
	Refresh             int // seconds; 0: none
	Finished, Total     int
	Experiments         []*experimentData
}

type experimentData struct {
	Name, Anchor, Source string
	Finished, Total      int
	Axes                 []axisData
	Seeds                string
	Settings             [][2]string // common to every run: name, value
	Claims               []claimData
	Agreement            string
	Header               []string
	Rows                 [][]cellData
	Notes                []string
	Figures              []figureData
	RunFigures           []figureData // one per run: heat maps, attention maps
	Problems             []problemData
	Pending              int
}

type axisData struct{ Path, Values string }

// cellData is one cell of the results table; Num right-aligns a number.
type cellData struct {
	Text string
	Num  bool
}

type claimData struct {
	Verdict, Class, Claim, Source, Measured, Basis string
}

type figureData struct {
	Name, Caption string
	Src           template.URL
}

type problemData struct {
	Run, Varied, Status, Step, Error string
}

func build(dir string, exps []*config.Experiment, opts Options) (*pageData, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	p := &pageData{Title: opts.Title, Dir: dir, Updated: now().Format("2006-01-02 15:04:05 MST"), Refresh: int(opts.Refresh.Seconds())}
	if p.Title == "" {
		p.Title = "sinkrun results: " + filepath.Base(filepath.Clean(dir))
	}
	all, err := table.ReadRuns(dir)
	if err != nil {
		return nil, err
	}
	byID := map[string]table.Run{}
	for _, r := range all {
		byID[r.Experiment+"/"+r.ID] = r
	}
	for _, x := range exps {
		e, err := experiment(dir, x, byID)
		if err != nil {
			return nil, fmt.Errorf("htmlreport: experiment %s: %w", x.Name, err)
		}
		p.Experiments = append(p.Experiments, e)
		p.Finished += e.Finished
		p.Total += e.Total
	}
	return p, nil
}

func experiment(dir string, x *config.Experiment, byID map[string]table.Run) (*experimentData, error) {
	e := &experimentData{Name: x.Name, Anchor: "experiment-" + anchor(x.Name), Source: x.Pos.String(), Total: len(x.Runs)}
	// The runs of the grid as it is now, in grid order: results of runs
	// whose settings have since changed are not the experiment's.
	var runs []table.Run
	for _, r := range x.Runs {
		if rr, ok := byID[x.Name+"/"+r.ID()]; ok {
			runs = append(runs, rr)
			e.Finished++
		}
	}
	e.Pending = e.Total - e.Finished
	e.Axes, e.Seeds = grid(x)
	e.Settings = commonSettings(x)

	metrics, err := table.ReadMetrics(dir, x.Name)
	if err != nil {
		return nil, err
	}
	heads, err := table.ReadHeads(dir, x.Name)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, r := range runs {
		ids[r.ID] = true
	}
	metrics = slices.DeleteFunc(metrics, func(m table.Metric) bool { return !ids[m.RunID] })
	heads = slices.DeleteFunc(heads, func(h table.Head) bool { return !ids[h.RunID] })

	if len(x.Expectations) > 0 {
		claims, err := results.CheckExpectations(dir, []*config.Experiment{x})
		if err != nil {
			return nil, err
		}
		e.Claims, e.Agreement = claimRows(claims)
	}
	values := map[string][]config.StepValue{}
	for _, m := range metrics {
		values[m.RunID] = append(values[m.RunID], m.StepValue())
	}
	e.Header, e.Rows, e.Notes = summaryTable(x, byID, values)
	for _, r := range runs {
		if r.Status == table.StatusDone {
			continue
		}
		step := ""
		if r.DivergedStep >= 0 {
			step = strconv.FormatInt(r.DivergedStep, 10)
		}
		e.Problems = append(e.Problems, problemData{Run: "run-" + r.ID, Varied: variedText(r.Varied, r), Status: string(r.Status), Step: step, Error: r.Error})
	}
	if len(runs) > 0 {
		if e.Figures, e.RunFigures, err = figures(dir, x.Name, runs, metrics, heads); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// grid lists the experiment's axes with their values, in axis order, and
// its seeds.
func grid(x *config.Experiment) ([]axisData, string) {
	values := map[string][]string{}
	var seeds []string
	for _, r := range x.Runs {
		for _, s := range r.Varied {
			if !slices.Contains(values[s.Path], s.Value) {
				values[s.Path] = append(values[s.Path], s.Value)
			}
		}
		if s := strconv.FormatInt(r.Seed, 10); !slices.Contains(seeds, s) {
			seeds = append(seeds, s)
		}
	}
	var axes []axisData
	for _, a := range x.Axes {
		axes = append(axes, axisData{a, strings.Join(values[a], ", ")})
	}
	return axes, strings.Join(seeds, ", ")
}

// commonSettings is every resolved setting that all runs of x share (but
// empty ones: arguments of kinds the runs do not use).
func commonSettings(x *config.Experiment) [][2]string {
	if len(x.Runs) == 0 {
		return nil
	}
	first := config.Flatten(x.Runs[0])
	same := make([]bool, len(first))
	for i := range same {
		same[i] = true
	}
	for _, r := range x.Runs[1:] {
		for i, c := range config.Flatten(r) {
			if i < len(first) && (c.Name != first[i].Name || fmt.Sprint(c.Value) != fmt.Sprint(first[i].Value)) {
				same[i] = false
			}
		}
	}
	var out [][2]string
	for i, c := range first {
		if same[i] && c.Name != "seed" && fmt.Sprint(c.Value) != "" {
			out = append(out, [2]string{c.Name, fmt.Sprint(c.Value)})
		}
	}
	return out
}

func claimRows(rs []results.ExpectResult) ([]claimData, string) {
	var out []claimData
	held, evaluated := 0, 0
	for _, r := range rs {
		c := claimData{Verdict: r.Verdict.String(), Claim: r.Expectation.Claim, Source: r.Expectation.Pos.String(),
			Basis: strings.TrimPrefix(r.Basis(), "decided on ")}
		switch r.Verdict {
		case results.Pass, results.Holds:
			c.Class = "pass"
			held++
		case results.Fail:
			c.Class = "fail"
		case results.Known:
			c.Class = "known"
		default:
			c.Class = "na"
		}
		if r.Verdict != results.NotEvaluated {
			evaluated++
			var parts []string
			for _, v := range r.Values {
				parts = append(parts, fmt.Sprintf("%s = %s (%d runs)", v.Quantity.Text, v.Cell(), v.N))
			}
			c.Measured = fmt.Sprintf("%s %s %s: %s", num(r.Left), r.Expectation.Op, num(r.Right), strings.Join(parts, ", "))
		} else {
			c.Measured = "not evaluated: " + r.Why
		}
		out = append(out, c)
	}
	agreement := fmt.Sprintf("%d of %d claims hold", held, len(rs))
	if evaluated < len(rs) {
		agreement += fmt.Sprintf(", %d not evaluated", len(rs)-evaluated)
	}
	return out, agreement
}

// column is one measured quantity of the summary table: a catalogue
// metric of the metrics table at one point (k, eps); the values of its other
// coordinates (the layers of a per-layer metric) are combined by over.
type column struct {
	metric config.Metric
	at     config.Point
	over   config.Reduction
}

// columnsOf lists, in catalogue order, every quantity the runs measured:
// each catalogue metric that `expect` claims or the runs table know (not the
// learning-rate schedule) at each of its values of k and eps, positions
// ascending (the slot, k = 0, first).
func columnsOf(values map[string][]config.StepValue) []column {
	var cols []column
	for _, m := range config.Metrics() {
		if m.Table != config.MetricsTable || (len(m.Claims) == 0 && len(m.Final) == 0) {
			continue
		}
		over := config.Mean
		for _, c := range m.Claims {
			over = c.Over // a per-layer ratio: its largest layer, as claims read it
		}
		var points []config.Point
		for _, vs := range values {
			for _, v := range vs {
				if v.Metric != m.Name {
					continue
				}
				p := config.Point{}
				for name, c := range v.At {
					if name == config.CoordK || name == config.CoordEps {
						p[name] = c
					}
				}
				if !slices.ContainsFunc(points, func(q config.Point) bool { return q.Has(p) && p.Has(q) }) {
					points = append(points, p)
				}
			}
		}
		sort.Slice(points, func(i, j int) bool {
			ki, _ := points[i].Int(config.CoordK)
			kj, _ := points[j].Int(config.CoordK)
			if ki != kj {
				return ki < kj
			}
			ei, _ := points[i].Float(config.CoordEps)
			ej, _ := points[j].Float(config.CoordEps)
			return ei < ej
		})
		for _, p := range points {
			cols = append(cols, column{m, p, over})
		}
	}
	return cols
}

// header names a column as `expect` claims do (sink_1, sink_star, alpha_1,
// val_loss, massive), with its eps when the metric has several, and its
// unit when it is a percentage.
func (c column) header(showEps bool) string {
	name := c.metric.Name
	k, hasK := c.at.Int(config.CoordK)
	for _, cl := range c.metric.Claims {
		if prefix, pattern := cl.Pattern(); pattern && hasK && k >= 1 {
			name = fmt.Sprintf("%s%d", prefix, k)
			break
		}
		if c.at.Has(cl.At) && cl.At.Has(pointWithout(c.at, config.CoordEps)) {
			name = cl.Name
			break
		}
	}
	if c.metric.Unit == "%" {
		name += " %"
	}
	if eps, ok := c.at.Float(config.CoordEps); ok && showEps {
		name += fmt.Sprintf(" (eps %g)", eps)
	}
	return name
}

func pointWithout(p config.Point, coord string) config.Point {
	q := config.Point{}
	for name, v := range p {
		if name != coord {
			q[name] = v
		}
	}
	return q
}

// summaryTable has a row per grid cell (the runs that differ only in their
// seed), in grid order: its varied values, every metric the runs measured
// at their last measurement as mean ± sd over the cell's finished runs,
// then how many finished and their status.
func summaryTable(x *config.Experiment, byID map[string]table.Run, values map[string][]config.StepValue) ([]string, [][]cellData, []string) {
	cols := columnsOf(values)
	eps := map[string]map[float64]bool{}
	for _, c := range cols {
		if e, ok := c.at.Float(config.CoordEps); ok {
			if eps[c.metric.Name] == nil {
				eps[c.metric.Name] = map[float64]bool{}
			}
			eps[c.metric.Name][e] = true
		}
	}
	header := append([]string{}, x.Axes...)
	if len(x.Axes) == 0 {
		header = []string{"experiment"}
	}
	for _, c := range cols {
		header = append(header, c.header(len(eps[c.metric.Name]) > 1))
	}
	header = append(header, "n", "status")
	anyProxy := false
	var rows [][]cellData
	for _, cell := range cells(x) {
		var row []cellData
		for _, s := range cell.varied {
			row = append(row, cellData{Text: s.Value})
		}
		if len(x.Axes) == 0 {
			row = append(row, cellData{Text: x.Name})
		}
		var done []string
		status := map[string]int{}
		var order []string
		for _, r := range cell.runs {
			st := "not finished"
			if rr, ok := byID[x.Name+"/"+r.ID()]; ok {
				st = string(rr.Status)
				if rr.Status == table.StatusDone {
					done = append(done, r.ID())
				}
			}
			if status[st] == 0 {
				order = append(order, st)
			}
			status[st]++
		}
		for _, c := range cols {
			var vs []float64
			proxy := false
			for _, id := range done {
				if v, p, ok := config.Pick(values[id], c.metric.Name, c.at, nil, c.over); ok {
					vs = append(vs, v)
					proxy = proxy || p
				}
			}
			anyProxy = anyProxy || (proxy && len(vs) > 0)
			row = append(row, cellData{statText(vs, proxy, c), true})
		}
		var st []string
		for _, s := range order {
			if len(order) == 1 {
				st = append(st, s)
			} else {
				st = append(st, fmt.Sprintf("%d %s", status[s], s))
			}
		}
		row = append(row, cellData{fmt.Sprintf("%d/%d", len(done), len(cell.runs)), true}, cellData{Text: strings.Join(st, ", ")})
		rows = append(rows, row)
	}
	notes := []string{"Each value is the mean ± sd over the cell's finished runs (its seeds) of the run's value at its last " +
		"measurement; n counts them. Columns are named as expect claims name the metrics (docs/metrics.md defines each)."}
	if e := eps[config.MetricSink]; len(e) == 1 {
		for v := range e {
			notes = append(notes, fmt.Sprintf("sink_k: at eps %g, the share in %% of (probe sequence, layer, head) whose attention on token k exceeds it; sink_star: the slot column's.", v))
		}
	}
	if slices.ContainsFunc(cols, func(c column) bool { return c.over == config.Max }) {
		notes = append(notes, "massive: the first token's norm over the other tokens' mean at the layer where it is largest.")
	}
	if anyProxy {
		notes = append(notes, "* marks proxy scores, computed on row-normalised attention maps.")
	}
	return header, rows, notes
}

// statText is "mean ± sd" ("mean" for one value; "—" for none), with the
// precision of the quantity: 2 decimals for percentages, 1 for ratios, 3
// otherwise.
func statText(vs []float64, proxy bool, c column) string {
	var finite []float64
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			finite = append(finite, v)
		}
	}
	if len(finite) == 0 {
		return "—"
	}
	prec := 3
	switch {
	case c.metric.Unit == "%":
		prec = 2
	case c.over == config.Max:
		prec = 1
	}
	mean := 0.0
	for _, v := range finite {
		mean += v
	}
	mean /= float64(len(finite))
	s := strconv.FormatFloat(mean, 'f', prec, 64)
	if proxy {
		s += "*"
	}
	if len(finite) > 1 {
		ss := 0.0
		for _, v := range finite {
			ss += (v - mean) * (v - mean)
		}
		s += " ± " + strconv.FormatFloat(math.Sqrt(ss/float64(len(finite)-1)), 'f', prec, 64)
	}
	return s
}

type cell struct {
	varied []config.Setting
	runs   []config.Run
}

// cells groups the runs of x by their varied values (all but the seed),
// in grid order.
func cells(x *config.Experiment) []*cell {
	var out []*cell
	byKey := map[string]*cell{}
	for _, r := range x.Runs {
		key := fmt.Sprint(r.Varied)
		c := byKey[key]
		if c == nil {
			c = &cell{varied: r.Varied}
			byKey[key] = c
			out = append(out, c)
		}
		c.runs = append(c.runs, r)
	}
	return out
}

// figures draws the experiment's figures as PNG data URIs: the line
// figures, then one heat map (and attention map) per run.
func figures(dir, exp string, runs []table.Run, metrics []table.Metric, heads []table.Head) (shared, perRun []figureData, err error) {
	figs, err := plot.ExperimentFigures(runs, metrics, heads)
	if err != nil {
		return nil, nil, err
	}
	maps, err := table.ReadMaps(dir, exp)
	if err != nil {
		return nil, nil, err
	}
	mfigs, err := plot.MapFigures(runs, heads, maps, plot.Options{})
	if err != nil {
		return nil, nil, err
	}
	for _, f := range append(figs, mfigs...) {
		var b bytes.Buffer
		if err := f.Figure.WriteTo(&b, plot.PNG); err != nil {
			return nil, nil, err
		}
		fd := figureData{Name: f.Name, Caption: caption(f.Name),
			Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()))}
		if strings.Contains(f.Name, "/") {
			perRun = append(perRun, fd)
		} else {
			shared = append(shared, fd)
		}
	}
	return shared, perRun, nil
}

// caption says what a figure shows, by its file name.
func caption(name string) string {
	switch {
	case name == plot.FileSink1:
		return "Sink_1 during training: the share of (probe sequence, layer, head) whose attention on token 1 exceeds eps."
	case name == plot.FileSinkSlot:
		return "Sink* during training: the same share for the slot column (a learnable key bias, KV bias, sink token or sink logit)."
	case strings.HasPrefix(name, plot.FileSinkK):
		return "Sink_" + strings.TrimPrefix(name, plot.FileSinkK) + " during training: the share whose attention on that token exceeds eps."
	case name == plot.FileAlpha1:
		return "Mean attention on token 1 (alpha_1) during training, with the level of uniform causal attention."
	case name == plot.FileValLoss:
		return "Validation loss during training."
	case name == plot.FileMassive:
		return "The first token's norm over the other tokens' mean (hidden state, key, value) at the last measurement."
	case strings.HasPrefix(name, plot.DirHeads+"/"):
		return "alpha_1 of every layer and head of one run at its last measurement: " + strings.TrimPrefix(name, plot.DirHeads+"/alpha1_") + "."
	case strings.HasPrefix(name, plot.DirMaps+"/"):
		return "The final attention map of probe sequence 0 of one head: " + strings.TrimPrefix(name, plot.DirMaps+"/attention_") + "."
	}
	return name
}

func variedText(v []config.Setting, r table.Run) string {
	var parts []string
	for _, s := range v {
		parts = append(parts, s.Path+"="+s.Value)
	}
	if seed, ok := results.Seed(r); ok {
		parts = append(parts, fmt.Sprintf("seed=%d", seed))
	}
	return strings.Join(parts, " ")
}

// anchor makes an experiment name safe in an id and a fragment.
func anchor(name string) string {
	var b strings.Builder
	for _, c := range name {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		} else {
			fmt.Fprintf(&b, "-%x-", c)
		}
	}
	return b.String()
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.Abs(v) < 1 && v != 0:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
