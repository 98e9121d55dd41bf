package main

import (
	"bytes"
	"context"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPlanEstimate(t *testing.T) {
	sink := writeSink(t, killGrid)
	out := filepath.Join(t.TempDir(), "results")
	var o, e bytes.Buffer
	if code := cmdPlanTimed(context.Background(), []string{sink, "-j", "1", "--out", out}, &o, &e); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, o.String(), e.String())
	}
	text := o.String()
	for _, want := range []string{
		"6 runs in 1 experiments", // plan.go's table comes first
		"Estimated time on this machine (backend go:parallelism=",
		"1 run at once; calibrated 1 shape in",
		"kill        6              ",
		"The batch: about ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan output lacks %q:\n%s", want, text)
		}
	}
	o.Reset()
	if code := cmdPlanTimed(context.Background(), []string{"--time=false", sink, "--out", out}, &o, &e); code != 0 || strings.Contains(o.String(), "Estimated") {
		t.Errorf("--time=false: exit %d\n%s", code, o.String())
	}
}

func TestSplitFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Bool("time", true, "")
	fs.Int("j", 0, "")
	fs.String("backend", "", "")
	rest, own := splitFlags([]string{"a.sink", "-j", "4", "--out", "r", "--time=false", "--backend=go", "--resolved", "-time", "b.sink", "--", "-j"}, fs)
	if want := []string{"a.sink", "--out", "r", "--resolved", "b.sink", "--", "-j"}; !slices.Equal(rest, want) {
		t.Errorf("rest = %q, want %q", rest, want)
	}
	if want := []string{"-j", "4", "--time=false", "--backend=go", "-time"}; !slices.Equal(own, want) {
		t.Errorf("own = %q, want %q", own, want)
	}
}
