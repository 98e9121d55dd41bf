package dsl

import (
	"os"
	"strings"
	"testing"
)

// seeds adds every corpus file and malformed variants of it: truncations,
// a dropped closing brace, doubled text and a stray byte.
func seeds(f *testing.F) {
	for _, src := range corpus(f) {
		f.Add(src)
		n := len(src)
		for _, cut := range []int{n / 3, n / 2, 2 * n / 3, n - 1} {
			if cut > 0 && cut < n {
				f.Add(src[:cut])
			}
		}
		if i := strings.LastIndexByte(string(src), '}'); i >= 0 {
			f.Add(append(append([]byte{}, src[:i]...), src[i+1:]...))
		}
		f.Add(append(append([]byte{}, src...), src...))
		if n > 10 {
			b := append([]byte{}, src...)
			b[n/2] = 0xff
			f.Add(b)
		}
	}
	for _, s := range []string{"", "{", "}", "experiment", "experiment a {", "import", "import \"", "variants {",
		"experiment a { variants { b { model { layers 2 } } } }",
		"experiment a { expect { sink_1[bias: k] > sink_1(eps: 0.5) + 5\n disagrees x -1 <= 2 } }", strings.Repeat("{", 100), "\xff\xfe", "# c"} {
		f.Add([]byte(s))
	}
}

// FuzzParse checks that Parse never panics or reports an error without a
// position inside the input.
func FuzzParse(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := Parse("fuzz.sink", src)
		checkErr(t, src, err)
	})
}

// FuzzFormat checks that every file that parses formats to a fixed point
// with the same syntax tree, and that a file that does not parse is not
// formatted.
func FuzzFormat(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := Format("fuzz.sink", src)
		if err != nil {
			checkErr(t, src, err)
			if out != nil {
				t.Fatal("output with an error")
			}
			return
		}
		checkFormat(t, "fuzz input", src)
	})
}

func checkErr(t *testing.T, src []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var list ErrorList
	switch e := err.(type) {
	case *Error:
		list = ErrorList{e}
	case ErrorList:
		list = e
	default:
		t.Fatalf("error of type %T: %v", err, err)
	}
	lines := strings.Count(string(src), "\n") + 1
	for _, e := range list {
		if e.Pos.File != "fuzz.sink" || e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1 {
			t.Fatalf("bad position: %v (%d lines)", e, lines)
		}
		if strings.HasPrefix(e.Msg, "internal") || strings.Contains(e.Msg, "panic") {
			t.Fatalf("internal error: %v", e)
		}
	}
}

// TestHostileInputs: no input may panic, hang or exhaust memory. (There is
// no timing threshold: a hang shows as the test binary's timeout.)
func TestHostileInputs(t *testing.T) {
	quick, _ := readQuickstart()
	cases := map[string]string{
		"20000 nested braces":         strings.Repeat("{", 20000) + strings.Repeat("}", 20000),
		"20000 nested in experiment":  "experiment a " + strings.Repeat("{", 20000) + strings.Repeat("}", 20000),
		"20000 open brackets":         "experiment a { model { x " + strings.Repeat("[", 20000),
		"20000 closing braces":        strings.Repeat("}", 20000),
		"nested parens":               "experiment a { model { x " + strings.Repeat("f(a: ", 20000) + "1" + strings.Repeat(")", 20000) + " } }",
		"huge integer":                "experiment a { model { layers " + strings.Repeat("9", 100000) + " } }",
		"huge float":                  "experiment a { model { init_std 1" + strings.Repeat("0", 100000) + ".5e99999999999999999999 } }",
		"huge exponent":               "experiment a { model { init_std 1e" + strings.Repeat("9", 10000) + " } }",
		"tiny float":                  "experiment a { model { init_std 1e-99999 } }",
		"long identifier":             "experiment " + strings.Repeat("a", 1000000) + " {}",
		"long string":                 "experiment a { data { corpus files(paths: [\"" + strings.Repeat("x", 1000000) + "\"]) } }",
		"long comment":                "# " + strings.Repeat("x", 1000000),
		"many experiments":            strings.Repeat("experiment a {}\n", 5000),
		"many settings":               "experiment a { model {\n" + strings.Repeat("layers 2\n", 5000) + "} }",
		"many semicolons":             "experiment a { model { " + strings.Repeat(";", 20000) + " } }",
		"many newlines":               strings.Repeat("\n", 100000),
		"garbage bytes":               "\x00\x01\x02\xff\xfe\xfd\x80\x81",
		"garbage after valid":         "experiment a {}\n\x00\xff",
		"NUL in comment":              "# \x00\nexperiment a {}",
		"invalid UTF-8 in comment":    "# \xff\xfe\nexperiment a {}",
		"invalid UTF-8 in string":     "experiment a { data { corpus files(paths: [\"\xff\"]) } }",
		"long list":                   "experiment a { model { x [" + strings.Repeat("1, ", 20000) + "] } }",
		"deep lists near limit":       "experiment a { model { x " + strings.Repeat("[", 30) + strings.Repeat("]", 30) + " } }",
		"many unexpected tokens":      strings.Repeat(": ", 50000),
		"many unterminated strings":   strings.Repeat("\"\n", 50000),
		"many vary":                   "experiment a {\n" + strings.Repeat("vary model.layers [1, 2]\n", 3000) + "}",
		"many variants":               "experiment a { variants {\n" + strings.Repeat("v { model { layers 2 } }\n", 3000) + "} }",
		"many imports":                strings.Repeat("import \"x.sink\"\n", 5000),
		"quickstart without newlines": strings.ReplaceAll(string(quick), "\n", " "),
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("fuzz.sink", []byte(src))
			checkErr(t, []byte(src), err)
			if out, err := Format("fuzz.sink", []byte(src)); err == nil && len(out) > 4*len(src)+100 {
				t.Errorf("formatted output grew from %d to %d bytes", len(src), len(out))
			}
		})
	}
}

// TestTruncations parses and formats every prefix of the quickstart file.
func TestTruncations(t *testing.T) {
	src, err := readQuickstart()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= len(src); i++ {
		_, err := Parse("fuzz.sink", src[:i])
		checkErr(t, src[:i], err)
		checkFormat(t, "prefix", src[:i])
	}
}

func readQuickstart() ([]byte, error) { return os.ReadFile("testdata/quickstart.sink") }
