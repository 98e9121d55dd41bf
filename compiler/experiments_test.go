package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sinkrun/sinkrun/dsl"
)

// TestExperimentsDir: every file in experiments/ passes `sinkrun check` and
// is formatted (`sinkrun fmt -l experiments` lists nothing).
func TestExperimentsDir(t *testing.T) {
	top, _ := filepath.Glob("../experiments/*.sink")
	nested, _ := filepath.Glob("../experiments/*/*.sink")
	if len(top) == 0 {
		t.Skip("no experiments/*.sink yet")
	}
	// experiments/pretrained/ reads a checkpoint that `make
	// pretrained-example` generates: formatted here, checked by that target.
	var checked []string
	for _, f := range append(top, nested...) {
		if filepath.Base(filepath.Dir(f)) != "pretrained" {
			checked = append(checked, f)
		}
	}
	if _, err := CompileFiles(checked); err != nil {
		t.Errorf("experiments/ does not check:\n%s", FormatErrors(err, nil))
	}
	for _, f := range append(top, nested...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := dsl.Format(f, src)
		if err != nil {
			continue // reported above
		}
		if string(out) != string(src) {
			t.Errorf("%s is not formatted: run sinkrun fmt -w %s", f, f)
		}
	}
}
