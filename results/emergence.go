package results

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
)

// emergenceFractions are the points of a run, as fractions of its steps, at
// which EmergenceReport shows Sink_1 and the strongest head: the
// measurement nearest to each.
var emergenceFractions = []float64{0.125, 0.25, 0.5, 1}

// EmergenceReport builds, for each experiment, the section "NAME emergence":
// one row per grid cell with the tokens its runs saw, Sink_1 (first eps) and
// the strongest head's alpha_1 (the largest over layers and heads) at the
// measurements nearest to 1/8, 1/4, 1/2 and all of the run's steps, the
// strongest head of each layer at the last measurement, and the validation
// loss. Values are means over the cell's finished runs (seeds). Like Report
// it depends on the measurements only, so re-running reproduces it.
func EmergenceReport(dir string, exps []*config.Experiment) ([]StudyReport, error) {
	runs, err := runsByID(dir)
	if err != nil {
		return nil, err
	}
	var out []StudyReport
	for _, x := range exps {
		metrics, err := table.ReadMetrics(dir, x.Name)
		if err != nil {
			return nil, err
		}
		heads, err := table.ReadHeads(dir, x.Name)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		writeEmergence(&b, x, runs, newCurves(metrics, heads))
		out = append(out, StudyReport{Experiment: x.Name + " emergence", Markdown: b.String()})
	}
	return out, nil
}

// curves are the measurements of an experiment's runs by step.
type curves struct {
	sink1  map[string]map[int64]float64 // run, step: Sink_1 at the first eps of the run's rows
	val    map[string]map[int64]float64 // run, step: validation loss
	tokens map[string]map[int64]int64   // run, step: tokens seen
	// strongest[run][step][layer]: the largest alpha_1 over the layer's heads.
	strongest map[string]map[int64]map[int32]float64
	proxy     bool
}

func newCurves(metrics []table.Metric, heads []table.Head) curves {
	c := curves{sink1: map[string]map[int64]float64{}, val: map[string]map[int64]float64{},
		tokens: map[string]map[int64]int64{}, strongest: map[string]map[int64]map[int32]float64{}}
	put := func(m map[string]map[int64]float64, id string, step int64, v float64) {
		if m[id] == nil {
			m[id] = map[int64]float64{}
		}
		m[id][step] = v
	}
	firstEps := map[string]float64{} // the eps of a run's first Sink_1 row: measure.eps's first, as written
	for _, m := range metrics {
		switch {
		case m.Metric == config.MetricSink && m.K == 1:
			e, ok := firstEps[m.RunID]
			if !ok {
				firstEps[m.RunID], e = m.Eps, m.Eps
			}
			if m.Eps == e {
				put(c.sink1, m.RunID, m.Step, m.Value)
				c.proxy = c.proxy || m.IsProxy
			}
		case m.Metric == config.MetricValLoss:
			put(c.val, m.RunID, m.Step, m.Value)
		default:
			continue
		}
		if c.tokens[m.RunID] == nil {
			c.tokens[m.RunID] = map[int64]int64{}
		}
		c.tokens[m.RunID][m.Step] = m.TokensSeen
	}
	for _, h := range heads {
		if h.K != 1 {
			continue
		}
		byStep := c.strongest[h.RunID]
		if byStep == nil {
			byStep = map[int64]map[int32]float64{}
			c.strongest[h.RunID] = byStep
		}
		if byStep[h.Step] == nil {
			byStep[h.Step] = map[int32]float64{}
		}
		if a, ok := byStep[h.Step][h.Layer]; !ok || h.Alpha > a {
			byStep[h.Step][h.Layer] = h.Alpha
		}
	}
	return c
}

// nearestStep is the measured step of a run nearest to target (the earlier
// one on a tie), or -1 when the run has no measurement.
func (c curves) nearestStep(id string, target float64) int64 {
	best := int64(-1)
	for step := range c.sink1[id] {
		if best < 0 || math.Abs(float64(step)-target) < math.Abs(float64(best)-target) ||
			math.Abs(float64(step)-target) == math.Abs(float64(best)-target) && step < best {
			best = step
		}
	}
	return best
}

func (c curves) strongestAt(id string, step int64) float64 {
	s := math.NaN()
	for _, a := range c.strongest[id][step] {
		if math.IsNaN(s) || a > s {
			s = a
		}
	}
	return s
}

func writeEmergence(w *strings.Builder, x *config.Experiment, runs map[string]table.Run, c curves) {
	header := shortNames(x.Axes)
	if len(x.Axes) == 0 {
		header = []string{"experiment"}
	}
	nAxes := len(header)
	header = append(header, "tokens", "Sink_1 % at 1/8 · 1/4 · 1/2 · end", "strongest head alpha_1 at 1/8 · 1/4 · 1/2 · end",
		"strongest head per layer at the end", "val loss", "n")
	fmt.Fprintf(w, "| %s |\n|%s---:|---|---|---|---:|---:|\n", strings.Join(header, " | "), strings.Repeat("---|", nAxes))
	mean := func(vs []float64, prec int) string {
		st := statOf(vs)
		if st.n == 0 {
			return "—"
		}
		return strconv.FormatFloat(st.mean, 'f', prec, 64)
	}
	for _, cl := range cellsOf(x) {
		var cells []string
		for _, s := range cl.varied {
			cells = append(cells, mdEscape(s.Value))
		}
		if len(x.Axes) == 0 {
			cells = append(cells, x.Name)
		}
		var done []string
		steps := 0
		for _, r := range cl.runs {
			if rr, ok := runs[r.ID()]; ok && rr.Status == table.StatusDone {
				done = append(done, r.ID())
				steps = r.Train.Steps
			}
		}
		var sinks, strong []string
		var tokens, val []float64
		layers := map[int32][]float64{}
		for _, f := range emergenceFractions {
			var s, a []float64
			for _, id := range done {
				step := c.nearestStep(id, f*float64(steps))
				if step < 0 {
					continue
				}
				s = append(s, c.sink1[id][step])
				a = append(a, c.strongestAt(id, step))
				if f == 1 {
					tokens = append(tokens, float64(c.tokens[id][step]))
					if v, ok := c.val[id][step]; ok {
						val = append(val, v)
					}
					for l, v := range c.strongest[id][step] {
						layers[l] = append(layers[l], v)
					}
				}
			}
			sinks, strong = append(sinks, mean(s, 2)), append(strong, mean(a, 3))
		}
		var perLayer []string
		for l := range int32(len(layers)) {
			perLayer = append(perLayer, mean(layers[l], 2))
		}
		tok := "—"
		if st := statOf(tokens); st.n > 0 {
			tok = humanTokens(st.mean)
		}
		if len(perLayer) == 0 {
			perLayer = []string{"—"}
		}
		cells = append(cells, tok, strings.Join(sinks, " · "), strings.Join(strong, " · "), strings.Join(perLayer, " / "),
			mean(val, 3), fmt.Sprintf("%d/%d", len(done), len(cl.runs)))
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	eps := 0.3
	if e := x.Runs[0].Measure.Eps; len(e) > 0 {
		eps = e[0]
	}
	fmt.Fprintf(w, "\nMeans over the cell's finished runs (seeds) at the measurements nearest to 1/8, 1/4, 1/2 and all of its steps; Sink_1 at eps %g", eps)
	if c.proxy {
		w.WriteString(" (some scores are proxy scores on row-normalised maps)")
	}
	w.WriteString("; the strongest head is the largest alpha_1 over layers and heads (uniform attention over a 64-token probe gives 0.074); per layer: layer 0 first.\n")
}

// humanTokens writes a token count as 820k, 8.2M or 1.1B.
func humanTokens(n float64) string {
	switch {
	case n >= 1e9:
		return strconv.FormatFloat(n/1e9, 'f', 1, 64) + "B"
	case n >= 1e6:
		return strconv.FormatFloat(n/1e6, 'f', 1, 64) + "M"
	case n >= 1e3:
		return strconv.FormatFloat(n/1e3, 'f', 0, 64) + "k"
	}
	return strconv.FormatFloat(n, 'f', 0, 64)
}
