package compiler

import (
	"fmt"
	"strings"
	"testing"
)

// TestCompileHostile: inputs that could make the compiler panic, hang or
// exhaust memory end in errors (or runs), never worse. No timing threshold.
func TestCompileHostile(t *testing.T) {
	var chain strings.Builder
	chain.WriteString("experiment e0 {}\n")
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&chain, "experiment e%d extends e%d { model { layers %d } }\n", i, i-1, i%8+1)
	}
	for name, tc := range map[string]struct {
		src     string
		wantErr string // "" = compiles
	}{
		"20000 nested braces": {"experiment a " + strings.Repeat("{", 20000) + strings.Repeat("}", 20000), "nesting too deep"},
		"huge number":         {"experiment a { model { layers " + strings.Repeat("9", 100000) + " } }", "is out of range"},
		"huge float":          {"experiment a { model { init_std 1e999999 } }", "is out of range"},
		"integral huge float": {"experiment a { model { layers 1e300 } }", "model.layers: expected an integer, found 1e300"},
		"garbage":             {"\x00\xff\xfe garbage", "invalid control character"},
		"truncated":           {"experiment a { model { layers 2 } data { cont", "never closed"},
		"many errors":         {"experiment a { model {\n" + strings.Repeat("layrs 2\n", 5000) + "} }", "too many errors: 4800 more not shown"},
		"grid explosion": {"experiment a {\n" + strings.Repeat("vary model.layers [1, 2]\n", 1) + strings.Repeat("vary model.init_std [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]\n", 1) + "vary train.steps [" + func() string {
			var b strings.Builder
			for i := 1; i < 1000; i++ {
				fmt.Fprintf(&b, "%d, ", i)
			}
			return b.String()
		}() + "1000]\n}", "expands into more than 10000 runs"},
		"long extends chain": {chain.String(), ""},
		"many variants": {"experiment a { variants {\n" + func() string {
			var b strings.Builder
			for i := 0; i < 1000; i++ {
				fmt.Fprintf(&b, "v%d { train { steps %d } }\n", i, i+1)
			}
			return b.String()
		}() + "} }", ""},
		"extends cycle": {"experiment a extends b {}\nexperiment b extends a {}", "is defined later in this file"},
		"many seeds":    {"experiment a { train { seeds [" + strings.Repeat("1, ", 20000) + "] } }", "seed 1 is listed twice"},
	} {
		exps, err := Compile(map[string][]byte{"t.sink": []byte(tc.src)})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", name, firstLine(err.Error()))
		case tc.wantErr == "" && len(exps) == 0:
			t.Errorf("%s: no experiments", name)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			msg := "<nil>"
			if err != nil {
				msg = err.Error()[:min(len(err.Error()), 300)]
			}
			t.Errorf("%s: got %s, want %q", name, msg, tc.wantErr)
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
