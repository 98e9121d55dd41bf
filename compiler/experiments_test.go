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
	files, _ := filepath.Glob("../experiments/*.sink")
	if len(files) == 0 {
		t.Skip("no experiments/*.sink yet")
	}
	if _, err := CompileFiles(files); err != nil {
		t.Errorf("experiments/ does not check:\n%s", FormatErrors(err, nil))
	}
	for _, f := range files {
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
