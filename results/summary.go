package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// Format is the output format of WriteSummary.
type Format int

const (
	Table    Format = iota // a box-drawn terminal table per experiment
	Markdown               // a GitHub-flavoured Markdown table per experiment
	CSV                    // one CSV table over all experiments, numbers split into columns
)

func (f Format) String() string {
	switch f {
	case Table:
		return "table"
	case Markdown:
		return "markdown"
	case CSV:
		return "csv"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat parses "table", "markdown" (or "md") and "csv".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "table", "":
		return Table, nil
	case "markdown", "md":
		return Markdown, nil
	case "csv":
		return CSV, nil
	}
	return 0, fmt.Errorf("results: unknown summary format %q (want table, markdown or csv)", s)
}

// ProxyFootnote explains the proxy marker of sink scores.
const ProxyFootnote = "* proxy score on row-normalised maps"

// stat is the mean and sample standard deviation of a group's values.
type stat struct {
	mean, sd float64 // sd is NaN for fewer than two values
	n        int     // number of finite values
}

func statOf(vs []float64) stat {
	var sum float64
	var n int
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			sum += v
			n++
		}
	}
	s := stat{mean: math.NaN(), sd: math.NaN(), n: n}
	if n == 0 {
		return s
	}
	s.mean = sum / float64(n)
	if n > 1 {
		var ss float64
		for _, v := range vs {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				ss += (v - s.mean) * (v - s.mean)
			}
		}
		s.sd = math.Sqrt(ss / float64(n-1))
	}
	return s
}

// summaryColumn is a final column of the runs table that the summary shows
// (config.FinalColumn.Summary), in catalogue order, or one of the columns
// it adds per measured position (config.SummaryColumn.EveryK).
type summaryColumn struct {
	final string // the runs table's column
	config.SummaryColumn
	proxy bool // the column has a proxy flag
	// measured, for a column per position, is where its value is picked
	// from a run's values (the metrics table), as the final column picks its
	// own; nil for a column of the runs table.
	measured *pickAt
}

type pickAt struct {
	metric string
	at     config.Point
	first  []string
	over   config.Reduction
}

// value is the column's value for a run: its runs-table column, or picked
// from the run's values.
func (c summaryColumn) value(r table.Run, values map[string][]config.StepValue) config.FinalValue {
	if c.measured == nil {
		return r.Final(c.final)
	}
	v, proxy, _ := config.Pick(values[r.ID], c.measured.metric, c.measured.at, c.measured.first, c.measured.over)
	return config.FinalValue{Value: v, Proxy: proxy && c.proxy}
}

// summaryColumns are the summary's metric columns for the runs: the final
// columns with a summary, each followed, with the runs' values (nil: none),
// by a column per other position the runs measured (EveryK).
func summaryColumns(runs []table.Run, values map[string][]config.StepValue) []summaryColumn {
	var out []summaryColumn
	for _, f := range config.FinalColumns() {
		if f.Summary == nil {
			continue
		}
		out = append(out, summaryColumn{final: f.Name, SummaryColumn: *f.Summary, proxy: f.ProxyColumn != ""})
		if f.Summary.EveryK == nil || values == nil {
			continue
		}
		m, _, _ := config.MetricOfFinal(f.Name)
		for _, k := range otherPositions(m, runs, values) {
			col := *f.Summary
			col.Header, col.CSV, col.EveryK = fmt.Sprintf(f.Summary.EveryK.Header, k), fmt.Sprintf(f.Summary.EveryK.CSV, k), nil
			at := config.Point{config.CoordK: k}
			for name, v := range f.At {
				if name != config.CoordK {
					at[name] = v
				}
			}
			out = append(out, summaryColumn{final: f.Name, SummaryColumn: col, proxy: f.ProxyColumn != "",
				measured: &pickAt{metric: m.Name, at: at, first: f.First, over: f.Over}})
		}
	}
	return out
}

// otherPositions are the positions k at which the runs measured metric m,
// ascending, but those a final column of m keeps (k = 1, the slot's 0).
func otherPositions(m config.Metric, runs []table.Run, values map[string][]config.StepValue) []int {
	var ks []int
	for _, r := range runs {
		for _, v := range values[r.ID] {
			if k, ok := v.At.Int(config.CoordK); ok && v.Metric == m.Name && !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
	}
	ks = slices.DeleteFunc(ks, func(k int) bool {
		return slices.ContainsFunc(m.Final, func(f config.FinalColumn) bool {
			fk, ok := f.At.Int(config.CoordK)
			return ok && fk == k
		})
	})
	slices.Sort(ks)
	return ks
}

// row is one summary row: runs that differ only in seed.
type row struct {
	experiment string
	axes       map[string]string // varied path -> value
	runs       []table.Run
	// stats and proxy are the mean and sd of each summary column over the
	// row's finished runs, and whether any of their values is a proxy score.
	stats  []stat
	proxy  []bool
	nDone  int
	status string
}

// expTable is one experiment's rows and varied axes (paths, in order).
type expTable struct {
	name string
	axes []string
	eps  string // the first eps, when shared by all runs; "" otherwise
	cols []summaryColumn
	runs []table.Run
	// shown says which of cols the tables show: those some finished run of
	// the experiment has a value of.
	shown []bool
	rows  []*row
}

func isSeedPath(p string) bool {
	switch p {
	case "seed", "train.seed", "train.seeds":
		return true
	}
	return false
}

// groupKey identifies a row: every setting but the seed, or, for runs
// without settings, every varied value but the seed. A setting at its zero
// value counts as absent: a setting added to sinkrun is off at zero (so run
// ids stay unchanged), and runs written before it existed lack its column,
// yet belong with the new runs of the same cell. Runs written by one version
// have every column, so a varied zero (weight_decay 0 against 1) stays its
// own row; the one merge is a run without the column with a run at zero,
// which assumes a new setting's zero is the behaviour from before it.
func groupKey(r table.Run) string {
	var b strings.Builder
	if len(r.Settings) > 0 {
		for _, s := range r.Settings {
			if s.Name == "seed" || isZero(s.Value) {
				continue
			}
			fmt.Fprintf(&b, "%s=%v\x00", s.Name, s.Value)
		}
		return b.String()
	}
	for _, s := range r.Varied {
		if !isSeedPath(s.Path) {
			fmt.Fprintf(&b, "%s=%s\x00", s.Path, s.Value)
		}
	}
	return b.String()
}

// isZero reports a setting's zero value (Column values are int64, float64,
// bool or string).
func isZero(v any) bool {
	switch v := v.(type) {
	case int64:
		return v == 0
	case float64:
		return v == 0
	case bool:
		return !v
	case string:
		return v == ""
	}
	return v == nil
}

func firstEps(r table.Run) (string, bool) {
	for _, s := range r.Settings {
		if s.Name == "measure_eps" {
			v := fmt.Sprint(s.Value)
			first, _, _ := strings.Cut(v, ",")
			return strings.TrimSpace(first), first != ""
		}
	}
	return "", false
}

// summarise groups runs by experiment (in order of first appearance) and,
// within one, by settings other than the seed (in order of first appearance).
func summarise(runs []table.Run, values map[string][]config.StepValue) []*expTable {
	var exps []*expTable
	byName := map[string]*expTable{}
	rowByKey := map[string]*row{}
	epsByExp := map[string]map[string]bool{}
	for _, r := range runs {
		e := byName[r.Experiment]
		if e == nil {
			e = &expTable{name: r.Experiment}
			byName[r.Experiment] = e
			exps = append(exps, e)
			epsByExp[r.Experiment] = map[string]bool{}
		}
		for _, s := range r.Varied {
			if isSeedPath(s.Path) || contains(e.axes, s.Path) {
				continue
			}
			e.axes = append(e.axes, s.Path)
		}
		eps, _ := firstEps(r)
		epsByExp[r.Experiment][eps] = true
		key := r.Experiment + "\x01" + groupKey(r)
		rw := rowByKey[key]
		if rw == nil {
			rw = &row{experiment: r.Experiment, axes: map[string]string{}}
			for _, s := range r.Varied {
				rw.axes[s.Path] = s.Value
			}
			rowByKey[key] = rw
			e.rows = append(e.rows, rw)
		}
		rw.runs = append(rw.runs, r)
		e.runs = append(e.runs, r)
	}
	for _, e := range exps {
		e.cols = summaryColumns(e.runs, values)
		e.shown = make([]bool, len(e.cols))
		if len(epsByExp[e.name]) == 1 {
			for eps := range epsByExp[e.name] {
				e.eps = eps
			}
		}
		for _, rw := range e.rows {
			rw.finish(e.cols, values)
			for i := range e.cols {
				e.shown[i] = e.shown[i] || rw.stats[i].n > 0
			}
		}
	}
	return exps
}

// finish computes a row's statistics over its finished ("done") runs and
// its status over all runs.
func (rw *row) finish(cols []summaryColumn, vals map[string][]config.StepValue) {
	values := make([][]float64, len(cols))
	rw.proxy = make([]bool, len(cols))
	counts := map[table.Status]int{}
	var order []table.Status
	for _, r := range rw.runs {
		st := r.Status
		if st == "" {
			st = "unknown"
		}
		if counts[st] == 0 {
			order = append(order, st)
		}
		counts[st]++
		if r.Status != table.StatusDone {
			continue
		}
		rw.nDone++
		for i, c := range cols {
			v := c.value(r, vals)
			values[i] = append(values[i], v.Value)
			rw.proxy[i] = rw.proxy[i] || v.Proxy
		}
	}
	rw.stats = make([]stat, len(cols))
	for i := range cols {
		rw.stats[i] = statOf(values[i])
	}
	n := len(rw.runs)
	if len(order) == 1 {
		rw.status = string(order[0])
		return
	}
	var parts []string
	for _, st := range order {
		if st != table.StatusDone {
			parts = append(parts, fmt.Sprintf("%d/%d %s", counts[st], n, st))
		}
	}
	rw.status = strings.Join(parts, ", ")
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// shortNames shortens dotted paths to their last component, adding leading
// components only where needed to keep the names distinct
// ("model.norm.eps", "train.optimizer.eps" -> "norm.eps", "optimizer.eps").
func shortNames(paths []string) []string {
	parts := make([][]string, len(paths))
	depth := make([]int, len(paths))
	for i, p := range paths {
		parts[i] = strings.Split(p, ".")
		depth[i] = 1
	}
	name := func(i int) string {
		ps := parts[i]
		d := min(depth[i], len(ps))
		return strings.Join(ps[len(ps)-d:], ".")
	}
	for {
		seen := map[string][]int{}
		for i := range paths {
			seen[name(i)] = append(seen[name(i)], i)
		}
		grew := false
		for _, idx := range seen {
			if len(idx) < 2 {
				continue
			}
			for _, i := range idx {
				if depth[i] < len(parts[i]) {
					depth[i]++
					grew = true
				}
			}
		}
		if !grew {
			break
		}
	}
	out := make([]string, len(paths))
	for i := range paths {
		out[i] = name(i)
	}
	return out
}

func fmtFloat(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// cell is "mean ± sd" of summary column i (sd for columns that show it,
// and only with two runs or more), "*" marking a proxy score.
func (rw *row) cell(c summaryColumn, i int) string {
	st := rw.stats[i]
	s := fmtFloat(st.mean, c.Prec)
	if c.SD && !math.IsNaN(st.sd) {
		s += " ± " + fmtFloat(st.sd, c.Prec)
	}
	if rw.marked(i) {
		s += "*"
	}
	return s
}

// marked reports whether column i of the row shows the proxy marker.
func (rw *row) marked(i int) bool { return rw.proxy[i] && rw.stats[i].n > 0 }

// displayHeader and displayRows give the cells shared by Table and Markdown:
// the axes, the summary columns, n and the status.
func (e *expTable) displayHeader() []string {
	h := shortNames(e.axes)
	for i, c := range e.cols {
		if !e.shown[i] {
			continue
		}
		head := c.Header
		if c.EpsInHeader && e.eps != "" {
			head += " (eps " + e.eps + ")"
		}
		h = append(h, head)
	}
	return append(h, "n", "status")
}

func (e *expTable) displayRows() ([][]string, bool) {
	var rows [][]string
	anyProxy := false
	for _, rw := range e.rows {
		var cells []string
		for _, a := range e.axes {
			cells = append(cells, rw.axes[a])
		}
		for i, c := range e.cols {
			if e.shown[i] {
				cells = append(cells, rw.cell(c, i))
				anyProxy = anyProxy || rw.marked(i)
			}
		}
		cells = append(cells, strconv.Itoa(len(rw.runs)), rw.status)
		rows = append(rows, cells)
	}
	return rows, anyProxy
}

// WriteSummary writes one table per experiment (in order of first
// appearance): the varied axes as columns, then the summary columns of the
// metric catalogue (config.FinalColumn.Summary, in catalogue order: the
// validation loss, Sink_1, Sink*, alpha_1, the massive-activation ratio;
// each where some finished run of the experiment has a value of it) as the
// mean over seeds
// ("± sd" where the column shows it and there are two seeds or more; "*"
// marks a proxy score, explained by a footnote), the number of seeds n and
// the status ("done", "diverged", or e.g. "1/2 diverged"). Runs that differ
// only in seed share a row; rows keep the order of the runs given. Means and
// sd are over the row's "done" runs. CSV instead writes a single table over
// all experiments, with an experiment column and each summary column as
// NAME_mean and NAME_sd (and NAME_is_proxy for sink scores), empty where a
// run has no value.
func WriteSummary(w io.Writer, runs []table.Run, f Format) error {
	return WriteSummaryOf(w, runs, nil, f)
}

// WriteSummaryOf is WriteSummary given also the runs' metric values (by run
// id, table.ReadValues or ReadSummaryValues): the summary then adds a column
// per other position the runs measured beside the columns that ask for them
// (config.SummaryColumn.EveryK: Sink_2 %, Sink_3 %, ... beside Sink_1 %), which
// the runs table alone cannot give.
func WriteSummaryOf(w io.Writer, runs []table.Run, values map[string][]config.StepValue, f Format) error {
	exps := summarise(runs, values)
	switch f {
	case Table:
		return writeTable(w, exps)
	case Markdown:
		return writeMarkdown(w, exps)
	case CSV:
		return writeCSV(w, exps)
	}
	return fmt.Errorf("results: unknown summary format %d", int(f))
}

// numericFrom is the index of the first right-aligned column.
func (e *expTable) numericFrom() int { return len(e.axes) }

func writeTable(w io.Writer, exps []*expTable) error {
	if len(exps) == 0 {
		_, err := fmt.Fprintln(w, "no runs")
		return err
	}
	for i, e := range exps {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintf(w, "experiment %s\n", e.name); err != nil {
			return err
		}
		header := e.displayHeader()
		rows, anyProxy := e.displayRows()
		aligns := make([]tw.Align, len(header))
		for j := range aligns {
			aligns[j] = tw.AlignLeft
			if j >= e.numericFrom() && j < len(header)-1 {
				aligns[j] = tw.AlignRight
			}
		}
		t := tablewriter.NewTable(w)
		t.Configure(func(cfg *tablewriter.Config) {
			cfg.Header.Formatting.AutoFormat = tw.Off
			cfg.Header.Formatting.AutoWrap = tw.WrapNone
			cfg.Header.Alignment.Global = tw.AlignCenter
			cfg.Row.Formatting.AutoWrap = tw.WrapNone
			cfg.Row.Alignment.PerColumn = aligns
		})
		t.Header(anySlice(header)...)
		for _, r := range rows {
			if err := t.Append(r); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		if anyProxy {
			if _, err := fmt.Fprintln(w, ProxyFootnote); err != nil {
				return err
			}
		}
	}
	return nil
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func mdEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "|", `\|`)
}

func writeMarkdown(w io.Writer, exps []*expTable) error {
	if len(exps) == 0 {
		_, err := fmt.Fprintln(w, "no runs")
		return err
	}
	var b strings.Builder
	for i, e := range exps {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n\n", mdEscape(e.name))
		header := e.displayHeader()
		rows, anyProxy := e.displayRows()
		line := func(cells []string) {
			b.WriteString("|")
			for _, c := range cells {
				b.WriteString(" " + mdEscape(c) + " |")
			}
			b.WriteString("\n")
		}
		line(header)
		b.WriteString("|")
		for j := range header {
			if j >= e.numericFrom() && j < len(header)-1 {
				b.WriteString("---:|")
			} else {
				b.WriteString("---|")
			}
		}
		b.WriteString("\n")
		for _, r := range rows {
			line(r)
		}
		if anyProxy {
			// A bare "* " would start a Markdown list item: escape the star.
			b.WriteString("\n\\" + ProxyFootnote + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// csvFloat writes full-precision numbers; NaN becomes an empty cell.
func csvFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func writeCSV(w io.Writer, exps []*expTable) error {
	var paths []string
	for _, e := range exps {
		for _, a := range e.axes {
			if !contains(paths, a) {
				paths = append(paths, a)
			}
		}
	}
	header := append([]string{"experiment"}, shortNames(paths)...)
	// Every experiment's columns, in order: the catalogue's, then the
	// positions some experiment measured, each after its base column.
	var cols []summaryColumn
	for _, e := range exps {
		at := 0
		for _, c := range e.cols {
			if i := slices.IndexFunc(cols, func(d summaryColumn) bool { return d.CSV == c.CSV }); i >= 0 {
				at = i + 1
				continue
			}
			cols = slices.Insert(cols, at, c)
			at++
		}
	}
	if len(exps) == 0 {
		cols = summaryColumns(nil, nil)
	}
	for _, c := range cols {
		header = append(header, c.CSV+"_mean", c.CSV+"_sd")
		if c.proxy {
			header = append(header, c.CSV+"_is_proxy")
		}
	}
	header = append(header, "eps", "n", "n_done", "status")
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, e := range exps {
		for _, rw := range e.rows {
			rec := []string{e.name}
			for _, p := range paths {
				rec = append(rec, rw.axes[p])
			}
			for _, c := range cols {
				i := slices.IndexFunc(e.cols, func(d summaryColumn) bool { return d.CSV == c.CSV })
				if i < 0 { // a position this experiment did not measure
					rec = append(rec, "", "")
					if c.proxy {
						rec = append(rec, "false")
					}
					continue
				}
				rec = append(rec, csvFloat(rw.stats[i].mean), csvFloat(rw.stats[i].sd))
				if c.proxy {
					rec = append(rec, strconv.FormatBool(rw.marked(i)))
				}
			}
			rec = append(rec, e.eps, strconv.Itoa(len(rw.runs)), strconv.Itoa(rw.nDone), rw.status)
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadSummaryValues reads the metric values of the runs' experiments under
// dir (table.ReadValues), by run id, for WriteSummaryOf.
func ReadSummaryValues(dir string, runs []table.Run) (map[string][]config.StepValue, error) {
	out := map[string][]config.StepValue{}
	var done []string
	for _, r := range runs {
		if slices.Contains(done, r.Experiment) {
			continue
		}
		done = append(done, r.Experiment)
		vs, err := table.ReadValues(dir, r.Experiment)
		if err != nil {
			return nil, err
		}
		for id, v := range vs {
			out[id] = v
		}
	}
	return out, nil
}
