package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/compiler"
)

func TestReport(t *testing.T) {
	dir, exps := writeFakeStudy(t, 3)
	reports, err := Report(dir, exps)
	if err != nil {
		t.Fatal(err)
	}
	want := `| bias | Sink* % | Sink_1 % | Sink_2 % | alpha_1 | val loss | n |
|---|---:|---:|---:|---:|---:|---:|
| none | — | 91.50 ± 0.71 | 0.00 ± 0.00 | 0.400 ± 0.000 | 1.200 ± 0.000 | 2/2 |
| k | 80.00 | 0.00 | 0.00 | 0.400 | 1.200 | 1/2 |

Mean ± sd over seeds at the last measurement; Sink_k at eps 0.3; Sink* is the slot column's score, — where a model has none; n is the cell's finished runs of its seeds.

Agreement with the paper: **not evaluated**: runs its claims need have not finished.

| claim | measured | verdict |
|---|---|---|
| ` + "`sink_1[bias: none] > sink_1[bias: k] + 50`" + ` | — | not run |
`
	if len(reports) != 1 || !strings.HasPrefix(reports[0].Markdown, want) {
		t.Errorf("got:\n%s\nwant a prefix:\n%s", reports[0].Markdown, want)
	}

	dir, exps = writeFakeStudy(t, -1)
	reports, err = Report(dir, exps)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"Agreement with the paper: **partly disagrees**: 4 of 6 claims hold.\n",
		"| `sink_star[bias: k] > 50` | 80.00 > 50.00 | agrees |\n",
		"| `disagrees sink_1[bias: k] > 10` | 0.00 > 10.00 | disagrees (known at this scale) |\n",
		"| `val_loss[bias: k] > 5` | 1.20 > 5.00 | **disagrees** |\n",
	} {
		if !strings.Contains(reports[0].Markdown, s) {
			t.Errorf("report lacks %q:\n%s", s, reports[0].Markdown)
		}
	}
}

func TestCatalogueSummary(t *testing.T) {
	for _, tc := range []struct {
		skip int
		want string
	}{
		{3, "| fake | **not evaluated**: runs its claims need have not finished | 3/4 |\n| all 1 | 0 of 6 claims hold, 6 not evaluated | 3/4 |\n"},
		{-1, "| fake | **partly disagrees**: 4 of 6 claims hold | 4/4 |\n| all 1 | 4 of 6 claims hold | 4/4 |\n"},
	} {
		dir, exps := writeFakeStudy(t, tc.skip)
		s, err := AgreementTable("agreement", dir, exps)
		if err != nil {
			t.Fatal(err)
		}
		want := "| experiment | agreement with the paper | runs finished |\n|---|---|---:|\n" + tc.want
		if s.Experiment != "agreement" || s.Markdown != want {
			t.Errorf("skip %d: got\n%s\nwant\n%s", tc.skip, s.Markdown, want)
		}
	}
}

func TestAgreement(t *testing.T) {
	r := func(vs ...Verdict) []ExpectResult {
		var out []ExpectResult
		for _, v := range vs {
			out = append(out, ExpectResult{Verdict: v})
		}
		return out
	}
	for _, tc := range []struct {
		claims []ExpectResult
		want   string
	}{
		{r(Pass, Pass), "**agrees**: 2 of 2 claims hold"},
		{r(Pass, Holds), "**agrees**: 2 of 2 claims hold"},
		{r(Pass, Known), "**partly disagrees**: 1 of 2 claims hold"},
		{r(Fail, Known), "**disagrees**: 0 of 2 claims hold"},
		{r(Pass, NotEvaluated), "**partly disagrees**: 1 of 2 claims hold, 1 not evaluated"},
		{r(NotEvaluated), "**not evaluated**: runs its claims need have not finished"},
	} {
		if got := agreement(tc.claims); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.claims, got, tc.want)
		}
	}
}

func TestUpdateDoc(t *testing.T) {
	a := StudyReport{Experiment: "a", Markdown: "table a\n"}
	b := StudyReport{Experiment: "b c", Markdown: "table b\n"}
	doc := "# Studies\n\nprose\n<!-- begin sinkrun report: b c -->\nold b\n<!-- end sinkrun report: b c -->\nmore prose\n" +
		"<!-- begin sinkrun report: a -->\n<!-- end sinkrun report: a -->\nend\n"
	got, missing, err := UpdateDoc([]byte(doc), []StudyReport{a, b})
	if err != nil || len(missing) != 0 {
		t.Fatal(err, missing)
	}
	want := "# Studies\n\nprose\n<!-- begin sinkrun report: b c -->\ntable b\n<!-- end sinkrun report: b c -->\nmore prose\n" +
		"<!-- begin sinkrun report: a -->\ntable a\n<!-- end sinkrun report: a -->\nend\n"
	if string(got) != want {
		t.Errorf("got:\n%s", got)
	}
	again, _, err := UpdateDoc(got, []StudyReport{a, b})
	if err != nil || string(again) != want {
		t.Errorf("not idempotent: %v\n%s", err, again)
	}
	if _, missing, _ := UpdateDoc([]byte("no markers\n"), []StudyReport{a}); len(missing) != 1 || missing[0] != "a" {
		t.Errorf("missing %v", missing)
	}
	for _, bad := range []string{
		"<!-- begin sinkrun report: a -->\n",
		"<!-- end sinkrun report: a -->\n",
		"<!-- begin sinkrun report: a -->\n<!-- begin sinkrun report: b -->\n",
		"<!-- begin sinkrun report: a -->\n<!-- end sinkrun report: b -->\n",
		"<!-- begin sinkrun report: a -->\n<!-- end sinkrun report: a -->\n<!-- begin sinkrun report: a -->\n<!-- end sinkrun report: a -->\n",
	} {
		if _, _, err := UpdateDoc([]byte(bad), []StudyReport{a}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestResultsPageMarksEveryStudy: docs/results.md has a report section for
// every experiment of experiments/*.sink, so that `sinkrun report results
// experiments/*.sink --doc docs/results.md` can write them all.
func TestResultsPageMarksEveryStudy(t *testing.T) {
	files, _ := filepath.Glob("../experiments/*.sink")
	exps, err := compiler.CompileFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/results.md")
	if err != nil {
		t.Fatal(err)
	}
	var reports []StudyReport
	for _, x := range exps {
		reports = append(reports, StudyReport{Experiment: x.Name})
	}
	if _, missing, err := UpdateDoc(doc, reports); err != nil || len(missing) > 0 {
		t.Errorf("docs/results.md: %v; no report markers for %v", err, missing)
	}
}
