package config

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateMetricsDoc = flag.Bool("update", false, "rewrite docs/metrics.md")

const (
	metricsDoc        = "../docs/metrics.md"
	regenerateMetrics = "go test ./config -run TestMetricsDoc -update  (or SINKRUN_UPDATE_DOCS=1)"
)

// TestMetricsDoc fails when docs/metrics.md differs from what the metric
// catalogue generates (metricsMarkdown). Regenerate with -update.
func TestMetricsDoc(t *testing.T) {
	want := metricsMarkdown()
	got, err := os.ReadFile(metricsDoc)
	if err == nil && string(got) == want {
		return
	}
	if *updateMetricsDoc || os.Getenv("SINKRUN_UPDATE_DOCS") != "" {
		if err := os.WriteFile(metricsDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", metricsDoc)
		return
	}
	t.Errorf("%s is out of date with the metric catalogue (%v); run: %s", metricsDoc, err, regenerateMetrics)
}

// metricsMarkdown is docs/metrics.md: the shared definitions, then every
// metric of the catalogue with where it is stored, summarised and claimed.
func metricsMarkdown() string {
	var b strings.Builder
	b.WriteString(`# Metrics

<!-- Generated from the metric catalogue (config/metrics.go) by: ` + regenerateMetrics + `. Do not edit. -->

What sinkrun measures, defined exactly. Every metric is one entry of the metric catalogue
(config/metrics.go); the measurement, the Parquet tables ([results.md](results.md)), the summary
table, ` + "`expect`" + ` claims ([dsl.md](dsl.md)) and this page all read it.
[architecture.md](architecture.md#adding-a-metric) shows how to add one.

`)
	b.WriteString("| metric | what | unit | stored in |\n| --- | --- | --- | --- |\n")
	for _, m := range metrics {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s |\n", m.Name, m.Name, m.Title, m.Unit, storedIn(m))
	}
	b.WriteString("\n## Definitions\n")
	for _, d := range definitions {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n### %s\n\n%s\n", d.Anchor, d.Title, d.Doc)
		if d.Anchor == "proxy" {
			b.WriteString("\n" + proxyTable())
		}
	}
	b.WriteString("\n## The metrics\n")
	for _, m := range metrics {
		fmt.Fprintf(&b, "\n<a id=\"%s\"></a>\n### `%s`: %s\n\n%s\n\n", m.Name, m.Name, m.Title, m.Doc)
		b.WriteString("| | |\n| --- | --- |\n")
		fmt.Fprintf(&b, "| unit | %s |\n", m.Unit)
		fmt.Fprintf(&b, "| stored in | %s |\n", storedIn(m))
		when := "at every measurement: step 0, every `measure.every` steps and after the last step"
		if m.Cadence == EveryStep {
			when = "after every training step"
		}
		fmt.Fprintf(&b, "| measured | %s |\n", when)
		proxy := "never: it does not read attention maps"
		if m.Proxy {
			proxy = "when the attention op's rows need not sum to 1 ([proxy scores](#proxy))"
		}
		fmt.Fprintf(&b, "| proxy score | %s |\n", proxy)
		for _, f := range m.Final {
			fmt.Fprintf(&b, "| runs table | `%s`: %s%s |\n", f.Name, f.Doc, pickDoc(m, f.Over, f.At, f.First...))
			if s := f.Summary; s != nil {
				sd := ""
				if s.SD {
					sd = " ± sd"
				}
				fmt.Fprintf(&b, "| summary | %q: `%s` as mean%s over a grid cell's seeds (CSV `%s_mean`, `%s_sd`) |\n", s.Header, f.Name, sd, s.CSV, s.CSV)
				if k := s.EveryK; k != nil {
					fmt.Fprintf(&b, "| summary | beside it, %q, %q, ...: the same at every other position k the runs measured, from the `metrics` table (CSV `%s_mean`, ...) |\n",
						fmt.Sprintf(k.Header, 2), fmt.Sprintf(k.Header, 3), fmt.Sprintf(k.CSV, 2))
				}
			}
		}
		for _, c := range m.Claims {
			fixed := []string{c.NameCoord}
			for _, a := range c.Args {
				fixed = append(fixed, a.Coord)
			}
			fmt.Fprintf(&b, "| `expect` | `%s`%s: %s%s |\n", c.Name, claimArgs(c), c.Doc, pickDoc(m, c.Over, c.At, fixed...))
		}
	}
	return b.String()
}

// storedIn says where a metric's rows are.
func storedIn(m Metric) string {
	if m.Table == HeadsTable {
		return fmt.Sprintf("table `heads`, column `%s`, one row per %s", m.Name, strings.Join(quotedNames(m.Coords), " × "))
	}
	if len(m.Coords) == 0 {
		return fmt.Sprintf("table `metrics`, `metric = '%s'`, one value", m.Name)
	}
	return fmt.Sprintf("table `metrics`, `metric = '%s'`, one row per %s", m.Name, strings.Join(quotedNames(m.Coords), " × "))
}

// claimArgs lists a claim name's arguments.
func claimArgs(c ClaimName) string {
	var args []string
	for _, a := range c.Args {
		args = append(args, a.Coord+": "+a.Doc)
	}
	args = append(args, "runs: mean, min or max over the selected runs")
	return " (" + strings.Join(args, "; ") + ")"
}

// pickDoc says how a final column or claim combines the values of the
// metric's coordinates it does not fix (at, or fixed otherwise).
func pickDoc(m Metric, over Reduction, at Point, fixed ...string) string {
	var free []string
	for _, c := range m.Coords {
		if _, ok := at[c]; !ok && !slices.Contains(fixed, c) {
			free = append(free, c)
		}
	}
	if len(free) == 0 {
		return ""
	}
	return fmt.Sprintf(" (the %s over %s, at the last measurement)", over, strings.Join(free, ", "))
}

func quotedNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return out
}

// proxyTable lists, for every attention op of the architecture catalogue and
// the values of its arguments that change the rule, how its rows are scored.
func proxyTable() string {
	var b strings.Builder
	b.WriteString("| attention op | rows scored |\n| --- | --- |\n")
	rule := func(p ProxyNorm) string {
		if p == ProxyNone {
			return "as they are (they sum to 1)"
		}
		return "normalised: " + string(p)
	}
	for _, op := range attentionOps {
		cases := []struct {
			label string
			a     Attention
		}{{"", Attention{Op: op.Name, Z: "one", Alpha: 1}}}
		expand := func(arg string, values []string, set func(*Attention, string)) {
			if !slices.Contains(op.Args, arg) {
				return
			}
			var next []struct {
				label string
				a     Attention
			}
			for _, c := range cases {
				for _, v := range values {
					a := c.a
					set(&a, v)
					next = append(next, struct {
						label string
						a     Attention
					}{strings.TrimPrefix(c.label+", "+arg+": "+v, ", "), a})
				}
			}
			cases = next
		}
		expand("kernel", []string{"elu", "identity", "mlp"}, func(a *Attention, v string) { a.Kernel = v })
		expand("z", []string{"one", "sum"}, func(a *Attention, v string) { a.Z = v })
		expand("alpha", []string{"1", "other"}, func(a *Attention, v string) {
			if v != "1" {
				a.Alpha = 2
			}
		})
		same := true
		for _, c := range cases {
			same = same && op.Proxy(c.a) == op.Proxy(cases[0].a)
		}
		if same {
			fmt.Fprintf(&b, "| `%s` | %s |\n", op.Name, rule(op.Proxy(cases[0].a)))
			continue
		}
		for _, c := range cases {
			fmt.Fprintf(&b, "| `%s(%s)` | %s |\n", op.Name, c.label, rule(op.Proxy(c.a)))
		}
	}
	return b.String()
}

// TestNoSpecCitations: the repository defines its metrics itself
// (docs/metrics.md); no document, comment or .sink file cites the outside
// product spec by that name.
func TestNoSpecCitations(t *testing.T) {
	spec := regexp.MustCompile(`\b` + "SP" + "EC" + `\b`) // spelt so that this line does not match
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".sink")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if spec.MatchString(line) {
				t.Errorf("%s:%d cites the outside spec; link docs/metrics.md instead: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMetricsLinks: every link into docs/metrics.md with an anchor, from the
// docs and the code, names an anchor the page has.
func TestMetricsLinks(t *testing.T) {
	page := metricsMarkdown()
	link := regexp.MustCompile(`metrics\.md#([a-z0-9_]+)`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range link.FindAllStringSubmatch(string(src), -1) {
			if !strings.Contains(page, `<a id="`+m[1]+`"></a>`) {
				t.Errorf("%s links docs/metrics.md#%s, which has no such anchor", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
