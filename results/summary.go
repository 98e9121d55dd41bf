package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
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
// (config.FinalColumn.Summary), in catalogue order.
type summaryColumn struct {
	final string // the runs table's column
	config.SummaryColumn
	proxy bool // the column has a proxy flag
}

// summaryColumns are the summary's metric columns.
func summaryColumns() []summaryColumn {
	var out []summaryColumn
	for _, f := range config.FinalColumns() {
		if f.Summary != nil {
			out = append(out, summaryColumn{final: f.Name, SummaryColumn: *f.Summary, proxy: f.ProxyColumn != ""})
		}
	}
	return out
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
func summarise(runs []table.Run) []*expTable {
	var exps []*expTable
	byName := map[string]*expTable{}
	rowByKey := map[string]*row{}
	epsByExp := map[string]map[string]bool{}
	for _, r := range runs {
		e := byName[r.Experiment]
		if e == nil {
			cols := summaryColumns()
			e = &expTable{name: r.Experiment, cols: cols, shown: make([]bool, len(cols))}
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
	}
	for _, e := range exps {
		if len(epsByExp[e.name]) == 1 {
			for eps := range epsByExp[e.name] {
				e.eps = eps
			}
		}
		for _, rw := range e.rows {
			rw.finish(e.cols)
			for i := range e.cols {
				e.shown[i] = e.shown[i] || rw.stats[i].n > 0
			}
		}
	}
	return exps
}

// finish computes a row's statistics over its finished ("done") runs and
// its status over all runs.
func (rw *row) finish(cols []summaryColumn) {
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
			v := r.Final(c.final)
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
	exps := summarise(runs)
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
	cols := summaryColumns()
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
			for i, c := range cols {
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
