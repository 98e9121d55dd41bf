package main

import (
	"bytes"
	"context"
	"path/filepath"
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
		"6 runs in 1 experiment,", // plan.go's table comes first
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
