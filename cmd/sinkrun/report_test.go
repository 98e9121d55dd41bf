package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportDocKeepsResults: report --doc never blanks a section that
// reports results with one from a directory that lacks them; it names
// what it replaced and what it kept, and --force replaces anyway.
func TestReportDocKeepsResults(t *testing.T) {
	sink := writeSink(t, twoExperiments)
	full := filepath.Join(t.TempDir(), "full")
	if code, _, stderr := runCLI("run", sink, "--out", full, "--progress", "lines"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	code, page, stderr := runCLI("report", full, sink)
	if code != exitOK {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	page = "# Studies\n\nhand-written prose\n\n" + page
	doc := filepath.Join(t.TempDir(), "results.md")
	write := func() {
		if err := os.WriteFile(doc, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func() string {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write()

	// The same results: nothing to change.
	if code, _, stderr = runCLI("report", full, sink, "--doc", doc); code != exitOK || !strings.Contains(stderr, "no section changed; 2 unchanged") {
		t.Errorf("same results: exit %d\n%s", code, stderr)
	}
	// Only beta's results: beta unchanged, alpha kept and named.
	part := filepath.Join(t.TempDir(), "part")
	if code, _, stderr = runCLI("run", sink, "--out", part, "--experiment", "beta", "--progress", "lines"); code != exitOK {
		t.Fatalf("run beta: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI("report", part, sink, "--doc", doc)
	if code != exitOK || read() != page ||
		!strings.Contains(stderr, "kept 1 section that reports more finished runs than "+part+" holds: alpha (1 finished run on the page, 0 in "+part+")") ||
		!strings.Contains(stderr, "--force replaces them") {
		t.Errorf("a directory without alpha's runs: exit %d\n%s", code, stderr)
	}
	// An empty directory, with --force: both replaced, and said so.
	empty := t.TempDir()
	code, _, stderr = runCLI("report", empty, sink, "--doc", doc, "--force")
	if got := read(); code != exitOK || !strings.Contains(stderr, "replaced 2 sections (alpha, beta)") ||
		!strings.Contains(got, "hand-written prose") || !strings.Contains(got, "| alpha | — |") {
		t.Errorf("--force: exit %d\n%s\n%s", code, stderr, got)
	}
	// Back from the full results: both replaced again.
	if code, _, stderr = runCLI("report", full, sink, "--doc", doc); code != exitOK || read() != page || !strings.Contains(stderr, "replaced 2 sections") {
		t.Errorf("full results after --force: exit %d\n%s", code, stderr)
	}
}
