package results

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// StudyReport is the generated Markdown of one experiment for
// docs/results.md: a table of its grid cells (mean ± sd over seeds) and its
// claims with their verdicts and the agreement they add up to.
type StudyReport struct {
	Experiment string
	Markdown   string
}

// Report builds the study reports of the experiments from the results under
// dir, in the experiments' order. Each table row is a grid cell (the runs
// that differ only in their seed, in grid order): its varied values, Sink*
// when some run has a slot, Sink_k at the first eps for every measured
// position, alpha_1 and the validation loss at the last measurement, as the
// mean ± sd over the cell's finished runs, then how many finished. The
// output depends on the measurements only (no wall times or dates), so
// re-running the studies on the same backend and the report reproduces it.
func Report(dir string, exps []*config.Experiment) ([]StudyReport, error) {
	runs, err := runsByID(dir)
	if err != nil {
		return nil, err
	}
	var out []StudyReport
	for _, x := range exps {
		final, err := readFinalMetrics(dir, x.Name)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		writeStudyTable(&b, x, runs, final)
		writeClaims(&b, studyClaims(x, runs, final))
		out = append(out, StudyReport{Experiment: x.Name, Markdown: b.String()})
	}
	return out, nil
}

// AgreementTable is one table over the experiments, for a page that sums a
// catalogue up (docs/depth.md): per experiment, the agreement its claims add
// up to and how many of its runs finished, then the totals. name is the
// section's marker name.
func AgreementTable(name, dir string, exps []*config.Experiment) (StudyReport, error) {
	runs, err := runsByID(dir)
	if err != nil {
		return StudyReport{}, err
	}
	var b strings.Builder
	b.WriteString("| experiment | agreement with the paper | runs finished |\n|---|---|---:|\n")
	var allClaims []ExpectResult
	finished, total := 0, 0
	for _, x := range exps {
		agrees := "no claims"
		if len(x.Expectations) > 0 {
			final, err := readFinalMetrics(dir, x.Name)
			if err != nil {
				return StudyReport{}, err
			}
			claims := studyClaims(x, runs, final)
			allClaims = append(allClaims, claims...)
			agrees = agreement(claims)
		}
		n := 0
		for _, r := range x.Runs {
			if runs[r.ID()].Status == table.StatusDone {
				n++
			}
		}
		finished, total = finished+n, total+len(x.Runs)
		fmt.Fprintf(&b, "| %s | %s | %d/%d |\n", mdEscape(x.Name), agrees, n, len(x.Runs))
	}
	fmt.Fprintf(&b, "| all %d | %s | %d/%d |\n", len(exps), claimCount(allClaims), finished, total)
	return StudyReport{Experiment: name, Markdown: b.String()}, nil
}

// cell is the runs of one grid cell, in grid order.
type cell struct {
	varied []config.Setting // without the seed
	runs   []config.Run
}

func cellsOf(x *config.Experiment) []*cell {
	var cells []*cell
	byKey := map[string]*cell{}
	for _, r := range x.Runs {
		key := fmt.Sprint(r.Varied)
		c := byKey[key]
		if c == nil {
			c = &cell{varied: r.Varied}
			byKey[key] = c
			cells = append(cells, c)
		}
		c.runs = append(c.runs, r)
	}
	return cells
}

func writeStudyTable(w *strings.Builder, x *config.Experiment, runs map[string]table.Run, final map[string][]config.StepValue) {
	slot := slices.ContainsFunc(x.Runs, func(r config.Run) bool { return r.Model.Slots() > 0 })
	var ks []int
	for _, r := range x.Runs {
		for _, k := range config.MeasuredPositions(r) {
			if !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
	}
	slices.Sort(ks)
	eps := math.NaN() // the first eps, as the summary shows it
	if e := x.Runs[0].Measure.Eps; len(e) > 0 {
		eps = e[0]
	}
	header := shortNames(x.Axes)
	if len(x.Axes) == 0 {
		header = []string{"experiment"}
	}
	if slot {
		header = append(header, "Sink* %")
	}
	for _, k := range ks {
		header = append(header, fmt.Sprintf("Sink_%d %%", k))
	}
	header = append(header, "alpha_1", "val loss", "n")
	nAxes := max(len(x.Axes), 1)
	fmt.Fprintf(w, "| %s |\n|%s%s\n", strings.Join(header, " | "), strings.Repeat("---|", nAxes), strings.Repeat("---:|", len(header)-nAxes))
	proxy := false
	for _, c := range cellsOf(x) {
		var cells []string
		for _, s := range c.varied {
			cells = append(cells, mdEscape(s.Value))
		}
		if len(x.Axes) == 0 {
			cells = append(cells, x.Name)
		}
		var done []string
		for _, r := range c.runs {
			if rr, ok := runs[r.ID()]; ok && rr.Status == table.StatusDone {
				done = append(done, r.ID())
			}
		}
		stat := func(metric string, at config.Point, prec int) string {
			var vs []float64
			p := false
			for _, id := range done {
				if v, proxy, ok := config.Pick(final[id], metric, at, nil, config.Mean); ok {
					vs = append(vs, v)
					p = p || proxy
				}
			}
			st := statOf(vs)
			if st.n == 0 {
				return "—"
			}
			proxy = proxy || p
			s := strconv.FormatFloat(st.mean, 'f', prec, 64)
			if p {
				s += "*"
			}
			if !math.IsNaN(st.sd) {
				s += " ± " + strconv.FormatFloat(st.sd, 'f', prec, 64)
			}
			return s
		}
		sinkAt := func(k int) config.Point { return config.Point{config.CoordK: k, config.CoordEps: eps} }
		if slot {
			cells = append(cells, stat(config.MetricSink, sinkAt(0), 2))
		}
		for _, k := range ks {
			cells = append(cells, stat(config.MetricSink, sinkAt(k), 2))
		}
		cells = append(cells, stat(config.MetricMeanAlpha, config.Point{config.CoordK: 1}, 3), stat(config.MetricValLoss, nil, 3),
			fmt.Sprintf("%d/%d", len(done), len(c.runs)))
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintf(w, "\nMean ± sd over seeds at the last measurement; Sink_k at eps %g", eps)
	if slot {
		w.WriteString("; Sink* is the slot column's score, — where a model has none")
	}
	if proxy {
		w.WriteString("; `*` marks proxy scores on row-normalised maps")
	}
	w.WriteString("; n is the cell's finished runs of its seeds.\n")
}

// Agreement words for the claims of a study.
func claimWord(v Verdict) string {
	switch v {
	case Pass:
		return "agrees"
	case Fail:
		return "**disagrees**"
	case Known:
		return "disagrees (known at this scale)"
	case Holds:
		return "agrees (marked `disagrees`)"
	}
	return "not run"
}

// agreement sums up a study's claims: agrees (every claim holds), partly
// disagrees, disagrees (none holds), or not evaluated.
func agreement(claims []ExpectResult) string {
	held, evaluated := countClaims(claims)
	word := "partly disagrees"
	switch {
	case evaluated == 0:
		return "**not evaluated**: runs its claims need have not finished"
	case held == len(claims):
		word = "agrees"
	case held == 0:
		word = "disagrees"
	}
	return fmt.Sprintf("**%s**: %s", word, claimCount(claims))
}

// claimCount is "H of N claims hold", and how many were not evaluated.
func claimCount(claims []ExpectResult) string {
	held, evaluated := countClaims(claims)
	s := fmt.Sprintf("%d of %d claims hold", held, len(claims))
	if evaluated < len(claims) {
		s += fmt.Sprintf(", %d not evaluated", len(claims)-evaluated)
	}
	return s
}

func countClaims(claims []ExpectResult) (held, evaluated int) {
	for _, c := range claims {
		if c.Verdict != NotEvaluated {
			evaluated++
		}
		if c.Verdict == Pass || c.Verdict == Holds {
			held++
		}
	}
	return held, evaluated
}

func writeClaims(w *strings.Builder, claims []ExpectResult) {
	if len(claims) == 0 {
		return
	}
	fmt.Fprintf(w, "\nAgreement with the paper: %s.\n\n| claim | measured | verdict |\n|---|---|---|\n", agreement(claims))
	for _, c := range claims {
		measured := "—"
		if c.Verdict != NotEvaluated {
			measured = fmt.Sprintf("%s %s %s", fmtNum(c.Left), c.Expectation.Op, fmtNum(c.Right))
		}
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", c.Expectation.Claim, mdEscape(measured), claimWord(c.Verdict))
	}
}

// Report markers: docs/results.md holds each study's generated section
// between a begin and an end marker; UpdateDoc replaces what is between
// them and keeps the rest of the page.
func beginMarker(exp string) string { return "<!-- begin sinkrun report: " + exp + " -->" }
func endMarker(exp string) string   { return "<!-- end sinkrun report: " + exp + " -->" }

// Section is a report with its markers, as UpdateDoc writes it.
func (s StudyReport) Section() string {
	return beginMarker(s.Experiment) + "\n" + s.Markdown + endMarker(s.Experiment) + "\n"
}

var markerRe = regexp.MustCompile(`<!-- (begin|end) sinkrun report: (.*?) -->`)

// UpdateDoc replaces the marked section of each report in doc. It returns
// the new document and the experiments that have no marked section in it.
// Markers must pair up: a begin without its end is an error.
func UpdateDoc(doc []byte, reports []StudyReport) ([]byte, []string, error) {
	spans, err := sectionSpans(doc)
	if err != nil {
		return nil, nil, err
	}
	var missing []string
	type edit struct {
		span
		text string
	}
	var edits []edit
	for _, r := range reports {
		sp, ok := spans[r.Experiment]
		if !ok {
			missing = append(missing, r.Experiment)
			continue
		}
		edits = append(edits, edit{sp, r.Section()})
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.from - b.from })
	var out bytes.Buffer
	at := 0
	for _, e := range edits {
		out.Write(doc[at:e.from])
		out.WriteString(e.text)
		at = e.to
	}
	out.Write(doc[at:])
	return out.Bytes(), missing, nil
}
