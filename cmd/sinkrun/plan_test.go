package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/results/table"
)

func TestPlanCommand(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.sink")
	exp := filepath.Join(dir, "exp.sink")
	os.WriteFile(base, []byte(`experiment ref {
  model { layers 4; heads 4; d_model 128; ffn swiglu(hidden: 352) }
  train { steps 10; batch 32 }
}
`), 0o644)
	os.WriteFile(exp, []byte(`import "base.sink"
experiment grid extends ref {
  train { seeds [1, 2] }
  variants {
    baseline {}
    tied { model { tied true } }
  }
}
`), 0o644)
	out := filepath.Join(dir, "results")
	exps, err := compiler.CompileFiles([]string{exp})
	if err != nil {
		t.Fatal(err)
	}
	runs := exps[0].Runs
	if len(runs) != 4 {
		t.Fatalf("%d runs", len(runs))
	}
	// Pretend the second run finished.
	done := table.Path(out, table.TableRuns, "grid", runs[1].ID())
	os.MkdirAll(filepath.Dir(done), 0o755)
	os.WriteFile(done, nil, 0o644)

	var o, e bytes.Buffer
	if code := cmdPlan(context.Background(), []string{exp, "--out", out, "--resolved"}, &o, &e); code != 0 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	got := o.String()
	lines := strings.Split(got, "\n")
	if !strings.HasPrefix(lines[0], "EXPERIMENT  #  RUN ID") {
		t.Errorf("header %q", lines[0])
	}
	// The reference model: 869,504 parameters; tied: minus V·d.
	for i, want := range []string{
		"grid        1  " + runs[0].ID() + "  variant=baseline  1     869,504  115 G        -",
		"grid        2  " + runs[1].ID() + "  variant=baseline  2     869,504  115 G        yes",
		"grid        3  " + runs[2].ID() + "  variant=tied      1     836,736  111 G        -",
	} {
		if strings.TrimRight(lines[i+1], " ") != want {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(got, "\n4 runs in 1 experiment, 452 G training FLOPs in all; 1 have results in "+out+"\n") {
		t.Errorf("totals:\n%s", got)
	}
	// --resolved: each run's config, exactly the footer JSON once compacted.
	parts := strings.Split(got, "\n# grid run ")
	if len(parts) != 5 {
		t.Fatalf("%d resolved configs:\n%s", len(parts)-1, got)
	}
	for i, p := range parts[1:] {
		body := p[strings.Index(p, "\n")+1:]
		var c bytes.Buffer
		if err := json.Compact(&c, []byte(body)); err != nil {
			t.Fatalf("config %d: %v\n%s", i, err, body)
		}
		if c.String() != runs[i].JSON() {
			t.Errorf("config %d:\n got %s\nwant %s", i, c.String(), runs[i].JSON())
		}
	}
	if !strings.HasPrefix(parts[1], "1/4, run-"+runs[0].ID()+": variant=baseline, seed 1\n{\n  \"experiment\": \"grid\",\n") {
		t.Errorf("first config: %q", parts[1][:80])
	}

	// Errors are reported like check's; no table.
	bad := filepath.Join(dir, "bad.sink")
	os.WriteFile(bad, []byte("experiment b { model { layrs 2 } }\n"), 0o644)
	o.Reset()
	e.Reset()
	if code := cmdPlan(context.Background(), []string{bad}, &o, &e); code != 1 || o.Len() != 0 || !strings.Contains(e.String(), `did you mean "layers"`) {
		t.Errorf("bad: %d %q %q", code, o.String(), e.String())
	}
	if code := cmdPlan(context.Background(), nil, &o, &e); code != exitUsage {
		t.Errorf("no files: %d", code)
	}
}

func TestPlanFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 869504: "869,504", 1234567890: "1,234,567,890", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %s", n, got)
		}
	}
	for f, want := range map[float64]string{0: "0", 999: "999", 1500: "1.50 k", 5.69e12: "5.69 T", 22.4e12: "22.4 T", 118e12: "118 T", 3e21: "3000 E"} {
		if got := flopsText(f); got != want {
			t.Errorf("flopsText(%g) = %s, want %s", f, got, want)
		}
	}
}
