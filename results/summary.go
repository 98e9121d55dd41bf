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

// ProxyFootnote explains the proxy marker of Sink_1 and Sink* values.
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

// row is one summary row: runs that differ only in seed.
type row struct {
	experiment                 string
	axes                       map[string]string // varied path -> value
	runs                       []Run
	sink, loss, massive, alpha stat
	slot                       stat // Sink*, the slot column's score
	proxy                      bool
	nDone                      int
	status                     string
}

// expTable is one experiment's rows and varied axes (paths, in order).
type expTable struct {
	name string
	axes []string
	eps  string // the first eps, when shared by all runs; "" otherwise
	// slot says some finished run has a slot score (Sink*): the tables then
	// show it.
	slot bool
	rows []*row
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
func groupKey(r Run) string {
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

func firstEps(r Run) (string, bool) {
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
func summarise(runs []Run) []*expTable {
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
	}
	for _, e := range exps {
		if len(epsByExp[e.name]) == 1 {
			for eps := range epsByExp[e.name] {
				e.eps = eps
			}
		}
		for _, rw := range e.rows {
			rw.finish()
			e.slot = e.slot || rw.slot.n > 0
		}
	}
	return exps
}

// finish computes a row's statistics over its finished ("done") runs and
// its status over all runs.
func (rw *row) finish() {
	var sink, loss, massive, alpha, slot []float64
	counts := map[Status]int{}
	var order []Status
	for _, r := range rw.runs {
		st := r.Status
		if st == "" {
			st = "unknown"
		}
		if counts[st] == 0 {
			order = append(order, st)
		}
		counts[st]++
		if r.Status != StatusDone {
			continue
		}
		rw.nDone++
		sink = append(sink, r.FinalSink1)
		loss = append(loss, r.FinalValLoss)
		massive = append(massive, r.FinalMassive)
		alpha = append(alpha, r.FinalMeanAlpha1)
		slot = append(slot, r.FinalSinkSlot)
		rw.proxy = rw.proxy || r.Sink1Proxy
	}
	rw.sink, rw.loss, rw.massive, rw.alpha = statOf(sink), statOf(loss), statOf(massive), statOf(alpha)
	rw.slot = statOf(slot)
	n := len(rw.runs)
	if len(order) == 1 {
		rw.status = string(order[0])
		return
	}
	var parts []string
	for _, st := range order {
		if st != StatusDone {
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

// sinkCell is "mean ± sd" of a sink score in %, "*" marking a proxy score.
func (rw *row) sinkCell(st stat) string {
	s := fmtFloat(st.mean, 2)
	if !math.IsNaN(st.sd) {
		s += " ± " + fmtFloat(st.sd, 2)
	}
	if rw.proxy && st.n > 0 {
		s += "*"
	}
	return s
}

// displayHeader and displayRows give the cells shared by Table and Markdown.
func (e *expTable) displayHeader() []string {
	h := shortNames(e.axes)
	sink := "Sink_1 %"
	if e.eps != "" {
		sink += " (eps " + e.eps + ")"
	}
	h = append(h, sink)
	if e.slot {
		h = append(h, "Sink* %")
	}
	return append(h, "n", "val loss", "massive", "alpha_1", "status")
}

func (e *expTable) displayRows() ([][]string, bool) {
	var rows [][]string
	anyProxy := false
	for _, rw := range e.rows {
		var cells []string
		for _, a := range e.axes {
			cells = append(cells, rw.axes[a])
		}
		cells = append(cells, rw.sinkCell(rw.sink))
		if e.slot {
			cells = append(cells, rw.sinkCell(rw.slot))
		}
		cells = append(cells,
			strconv.Itoa(len(rw.runs)),
			fmtFloat(rw.loss.mean, 3),
			fmtFloat(rw.massive.mean, 1),
			fmtFloat(rw.alpha.mean, 3),
			rw.status,
		)
		anyProxy = anyProxy || (rw.proxy && (rw.sink.n > 0 || rw.slot.n > 0))
		rows = append(rows, cells)
	}
	return rows, anyProxy
}

// WriteSummary writes one table per experiment (in order of first
// appearance): the varied axes as columns, then Sink_1 as "mean ± sd" over
// seeds (sd omitted for one seed; "*" marks a proxy score, explained by a
// footnote), Sink* (the slot column's score, FinalSinkSlot) likewise when
// some finished run of the experiment has one, the number of seeds n, the mean validation loss, the mean
// massive-activation ratio, the mean alpha_1 and the status ("done",
// "diverged", or e.g. "1/2 diverged"). Runs that differ only in seed share a
// row; rows keep the order of the runs given. Means and sd are over the
// row's "done" runs. CSV instead writes a single table over all experiments,
// with an experiment column and the numbers in separate columns (always
// with sink_slot_mean and sink_slot_sd, empty where there is no slot).
func WriteSummary(w io.Writer, runs []Run, f Format) error {
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
	header = append(header, "sink1_mean", "sink1_sd", "sink1_is_proxy", "sink_slot_mean", "sink_slot_sd", "eps", "n", "n_done",
		"val_loss", "massive", "mean_alpha1", "status")
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
			rec = append(rec,
				csvFloat(rw.sink.mean), csvFloat(rw.sink.sd),
				strconv.FormatBool(rw.proxy && rw.sink.n > 0),
				csvFloat(rw.slot.mean), csvFloat(rw.slot.sd), e.eps,
				strconv.Itoa(len(rw.runs)), strconv.Itoa(rw.nDone),
				csvFloat(rw.loss.mean), csvFloat(rw.massive.mean), csvFloat(rw.alpha.mean),
				rw.status)
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
