package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExpectStudy runs a small seeded study through the binary and checks
// its expectations: after `sinkrun run` and with `sinkrun expect`, then a
// claim that fails (exit 1, or 0 with --warn), the study's section of a
// results page (`sinkrun report`), and a results directory without the runs
// (not evaluated: exit 1). About 30 s of CPU.
func TestExpectStudy(t *testing.T) {
	bin := binary(t)
	study := filepath.Join("testdata", "expect_study.sink")
	out := t.TempDir()
	sinkrun := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		stdout, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(stdout), code
	}
	const verdicts = "expectations: 3 pass, 0 FAIL, 1 known to disagree, 0 HOLD though marked disagrees, 0 not evaluated"
	stdout, code := sinkrun("run", study, "--out", out, "--progress", "lines")
	if code != 0 || !strings.Contains(stdout, verdicts) {
		t.Fatalf("run: exit %d\n%s", code, stdout)
	}
	stdout, code = sinkrun("expect", out, study)
	if code != 0 || !strings.Contains(stdout, verdicts) ||
		!strings.Contains(stdout, "pass  testdata/expect_study.sink:31:5: alpha_1[attention: softmax] > alpha_1[attention: sigmoid] + 0.03\n") ||
		!strings.Contains(stdout, "known testdata/expect_study.sink:34:5: disagrees sink_1[attention: softmax] > 90\n") {
		t.Fatalf("expect: exit %d\n%s", code, stdout)
	}

	// The same experiment (the same runs) with a claim that does not hold.
	src, err := os.ReadFile(study)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(src), "  expect {")
	failing := filepath.Join(t.TempDir(), "failing.sink")
	if err := os.WriteFile(failing, append(src[:i:i], "  expect { sink_1[attention: sigmoid] > 50 }\n}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, code = sinkrun("expect", out, failing)
	if code != 1 || !strings.Contains(stdout, "FAIL  "+failing+":30:12: sink_1[attention: sigmoid] > 50\n      0.00 > 50.00: sink_1[attention: sigmoid] = 0.00* ± 0.00 (2 runs)\n") {
		t.Fatalf("failing claim: exit %d\n%s", code, stdout)
	}
	if _, code = sinkrun("expect", "--warn", out, failing); code != 0 {
		t.Errorf("--warn: exit %d", code)
	}
	// The study's section of a results page: printed, and written between
	// its markers.
	doc := filepath.Join(t.TempDir(), "results.md")
	page := "# Studies\n<!-- begin sinkrun report: expect_study -->\nold\n<!-- end sinkrun report: expect_study -->\nprose\n"
	if err := os.WriteFile(doc, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	section, code := sinkrun("report", out, study)
	if code != 0 || !strings.Contains(section, "| softmax | 0.00 ± 0.00 | 0.160 ± ") ||
		!strings.Contains(section, "Agreement with the paper: **partly disagrees**: 3 of 4 claims hold.") {
		t.Fatalf("report: exit %d\n%s", code, section)
	}
	if _, code = sinkrun("report", "--doc", doc, out, study); code != 0 {
		t.Fatalf("report --doc: exit %d", code)
	}
	if got, _ := os.ReadFile(doc); string(got) != "# Studies\n"+section+"prose\n" {
		t.Errorf("report --doc wrote:\n%s", got)
	}
	if _, code = sinkrun("report", "--doc", failing, out, study); code != 1 {
		t.Errorf("report --doc on a page without markers: exit %d", code)
	}
	// --summary: one table for the experiments, into its own section.
	summary, code := sinkrun("report", "--summary", "agreement", out, study)
	if code != 0 || !strings.HasPrefix(summary, "<!-- begin sinkrun report: agreement -->\n| experiment | agreement with the paper | runs finished |\n") ||
		!strings.Contains(summary, "| expect_study | **partly disagrees**: 3 of 4 claims hold | 4/4 |\n| all 1 | 3 of 4 claims hold | 4/4 |\n") {
		t.Errorf("report --summary: exit %d\n%s", code, summary)
	}
	// --emergence: each experiment's emergence section, from real runs.
	emergence, code := sinkrun("report", "--emergence", out, study)
	if code != 0 || !strings.HasPrefix(emergence, "<!-- begin sinkrun report: expect_study emergence -->\n| attention | tokens | Sink_1 % at 1/8 · 1/4 · 1/2 · end |") ||
		!strings.Contains(emergence, "| softmax | ") || !strings.Contains(emergence, " | 2/2 |\n") {
		t.Errorf("report --emergence: exit %d\n%s", code, emergence)
	}
	if _, code = sinkrun("report", "--emergence", "--summary", "a", out, study); code != exitUsage {
		t.Errorf("report --emergence --summary: exit %d, want %d", code, exitUsage)
	}
	if _, code = sinkrun("report", "--summary", "a --> b", out, study); code != exitUsage {
		t.Errorf("report --summary with \"-->\" in its name: exit %d, want %d", code, exitUsage)
	}

	stdout, code = sinkrun("expect", t.TempDir(), study)
	if code != 1 || !strings.Contains(stdout, "not evaluated: alpha_1[attention: softmax]: 2 of 2 runs have no results") {
		t.Errorf("no results: exit %d\n%s", code, stdout)
	}
}
