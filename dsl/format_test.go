package dsl

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/format/*.golden")

// TestFormatGolden formats testdata/format/*.input and compares with the
// .golden file next to it (go test ./dsl -run TestFormatGolden -update
// rewrites them).
func TestFormatGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/format/*.input")
	if len(inputs) == 0 {
		t.Fatal("no inputs")
	}
	for _, in := range inputs {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Format(in, src)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		golden := strings.TrimSuffix(in, ".input") + ".golden"
		if *updateGolden {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: formatted:\n%s\nwant:\n%s", in, got, want)
		}
		checkFormat(t, in, src)
	}
}

func TestFormatCases(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"\n\n\n", ""},
		{"# only\n\n\n# comments  \n", "# only\n\n# comments\n"},
		{"experiment a {}", "experiment a {}\n"},
		{"experiment a {\n\n}\n", "experiment a {}\n"},
		{"experiment a{model{layers 2}}", "experiment a {\n  model { layers 2 }\n}\n"},
		{"experiment a { model { layers 2; heads 4 } }", "experiment a {\n  model {\n    layers 2\n    heads 4\n  }\n}\n"},
		{"experiment a {\n  model {\n    layers 2\n  }\n}", "experiment a {\n  model {\n    layers 2\n  }\n}\n"},
		{"experiment a {}experiment b {};experiment c {}", "experiment a {}\nexperiment b {}\nexperiment c {}\n"},
		{"experiment a\n{\n}\nexperiment b extends a\n\n{ data\n { context 32 } }", "experiment a {}\nexperiment b extends a {\n  data { context 32 }\n}\n"},
		{"experiment a { model { ffn swiglu( hidden : 3 ) ; x [ 1 ,2, [3,4] , ] } }",
			"experiment a {\n  model {\n    ffn swiglu(hidden: 3)\n    x [1, 2, [3, 4]]\n  }\n}\n"},
		{"experiment a { vary  model . attention [softmax,sigmoid( z:sum )] }", "experiment a {\n  vary model.attention [softmax, sigmoid(z: sum)]\n}\n"},
		{"experiment a { vary zip { model.layers [1]; data.context [64] } }",
			"experiment a {\n  vary zip {\n    model.layers [1]\n    data.context [64]\n  }\n}\n"},
		{"experiment a { vary zip { model.layers [1] } }", "experiment a {\n  vary zip { model.layers [1] }\n}\n"},
		{"experiment a { variants { b {} } }", "experiment a {\n  variants {\n    b {}\n  }\n}\n"},
		{"experiment a { variants { b { model { layers 1 } }; c { model { layers 1; heads 2 } } } }",
			"experiment a {\n  variants {\n    b { model { layers 1 } }\n    c {\n      model {\n        layers 1\n        heads 2\n      }\n    }\n  }\n}\n"},
		// Claims: a selector follows its metric; a glued sign becomes an operator.
		{"experiment a { expect { sink_1 [ bias : k ]>sink_1[bias: none]+50\n disagrees x(eps: 0.5)<=-1 ; y -2 >= 0 } }",
			"experiment a {\n  expect {\n    sink_1[bias: k] > sink_1[bias: none] + 50\n    disagrees x(eps: 0.5) <= -1\n    y - 2 >= 0\n  }\n}\n"},
		// Blocks written on one line go on lines of their own.
		{"experiment a { variants { fixed_second { data { fixed_token fixed(position: 2) } model { bias k } } } }",
			"experiment a {\n  variants {\n    fixed_second {\n      data { fixed_token fixed(position: 2) }\n      model { bias k }\n    }\n  }\n}\n"},
		{"experiment a { model { layers 2 } data { context 2 } # c\n}", "experiment a {\n  model { layers 2 }\n  data { context 2 } # c\n}\n"},
		{"import \"a.sink\";import \"b.sink\"\n\n\n\nexperiment a {}", "import \"a.sink\"\nimport \"b.sink\"\n\nexperiment a {}\n"},
		// Trailing comments stay on their line and are aligned; own-line ones keep their place.
		{"experiment a { # top\n  model {\n    layers 2 # l\n    d_model 128   # d\n\n\n    # own\n    heads 4\n  }\n}\n",
			"experiment a { # top\n  model {\n    layers 2    # l\n    d_model 128 # d\n\n    # own\n    heads 4\n  }\n}\n"},
		{"experiment a { model { layers 2; heads 4 # both\n } }", "experiment a {\n  model {\n    layers 2\n    heads 4 # both\n  }\n}\n"},
		{"experiment a { model { layers 2; # after semicolon\n heads 4 } }", "experiment a {\n  model {\n    layers 2 # after semicolon\n    heads 4\n  }\n}\n"},
		{"experiment a # header\n{\n}\n", "experiment a {} # header\n"},
		{"experiment a # header\n{ model { layers 2 } }\n", "experiment a { # header\n  model { layers 2 }\n}\n"},
		{"experiment a {\n  model { layers 2 }\n  # last\n}\n", "experiment a {\n  model { layers 2 }\n  # last\n}\n"},
		// Multi-line lists keep their breaks after commas and gain a trailing comma.
		{"experiment a { model { x [1, 2,\n 3] } }", "experiment a {\n  model {\n    x [\n      1, 2,\n      3,\n    ]\n  }\n}\n"},
		{"experiment a { model { x f(a: [ # c\n 1]) } }", "experiment a {\n  model {\n    x f(a: [ # c\n      1,\n    ])\n  }\n}\n"},
		{"experiment a { model { x [\n  # first\n  1,\n\n  # second\n  2, # two\n  # end\n] } }",
			"experiment a {\n  model {\n    x [\n      # first\n      1,\n\n      # second\n      2, # two\n      # end\n    ]\n  }\n}\n"},
		{"experiment a { model { x f(a: # c\n 1) } }", "experiment a {\n  model {\n    x f(\n      a: 1, # c\n    )\n  }\n}\n"},
		{"experiment a { model { s \"x\\ty\"; n -1.5e-3; m .5; p +3 } }",
			"experiment a {\n  model {\n    s \"x\\ty\"\n    n -1.5e-3\n    m .5\n    p +3\n  }\n}\n"},
		{"experiment a {\r\n  model { layers 2 }\r\n}\r\n", "experiment a {\n  model { layers 2 }\n}\n"},
		{"experiment ü {}", ""}, // does not parse
	} {
		got, err := Format("t.sink", []byte(tc.in))
		if tc.want == "" && tc.in != "" && strings.TrimSpace(tc.in) != "" {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.in, got, tc.want)
		}
		checkFormat(t, tc.in, []byte(tc.in))
	}
}

// TestFormatCorpus checks idempotence and syntax-tree preservation on every
// .sink file of the repository's testdata, docs and experiments.
func TestFormatCorpus(t *testing.T) {
	n := 0
	for _, src := range corpus(t) {
		if _, err := Parse("c.sink", src); err != nil {
			continue
		}
		checkFormat(t, "c.sink", src)
		n++
	}
	if n < 5 {
		t.Errorf("only %d corpus files parse", n)
	}
}

// checkFormat checks that src formats to a fixed point with the same tree.
func checkFormat(t *testing.T, name string, src []byte) {
	t.Helper()
	f1, err := Parse("t.sink", src)
	if err != nil {
		return
	}
	out, err := Format("t.sink", src)
	if err != nil {
		t.Fatalf("%s: parses but does not format: %v", name, err)
	}
	f2, err := Parse("t.sink", out)
	if err != nil {
		t.Fatalf("%s: formatted output does not parse: %v\n%s", name, err, out)
	}
	if !sameTree(f1, f2) {
		t.Fatalf("%s: formatting changed the syntax tree:\n%s", name, out)
	}
	again, err := Format("t.sink", out)
	if err != nil || string(again) != string(out) {
		t.Fatalf("%s: not idempotent:\nonce:\n%s\ntwice:\n%s", name, out, again)
	}
	for i, line := range strings.Split(string(out), "\n") {
		if strings.TrimRight(line, " \t") != line {
			t.Fatalf("%s: trailing space on output line %d", name, i+1)
		}
	}
}

// sameTree compares two syntax trees, ignoring positions.
func sameTree(a, b *File) bool {
	return reflect.DeepEqual(withoutPos(a), withoutPos(b))
}

func withoutPos(f *File) *File {
	c := deepCopyTree(reflect.ValueOf(f)).Interface().(*File)
	return c
}

var posType = reflect.TypeOf(Pos{})

// deepCopyTree copies a syntax tree, zeroing every Pos.
func deepCopyTree(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(deepCopyTree(v.Elem()))
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(deepCopyTree(v.Elem()))
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			n.Index(i).Set(deepCopyTree(v.Index(i)))
		}
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		if v.Type() == posType {
			return n
		}
		for i := 0; i < v.NumField(); i++ {
			n.Field(i).Set(deepCopyTree(v.Field(i)))
		}
		return n
	}
	return v
}

// corpus returns the sources of every .sink file in the repository's
// testdata, experiments (if any) and the ```sink blocks of docs/dsl.md.
func corpus(t testing.TB) [][]byte {
	var out [][]byte
	var files []string
	for _, pat := range []string{"testdata/*.sink", "testdata/format/*.input", "../compiler/testdata/*/*.sink", "../experiments/*.sink", "../experiments/*/*.sink"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, src)
		// The compiler's error files hold chunks separated by "---" lines.
		if strings.Contains(string(src), "\n---\n") {
			for _, c := range strings.Split(string(src), "\n---\n") {
				out = append(out, []byte(c))
			}
		}
	}
	if doc, err := os.ReadFile("../docs/dsl.md"); err == nil {
		parts := strings.Split(string(doc), "```sink\n")
		for _, p := range parts[1:] {
			if i := strings.Index(p, "```"); i >= 0 {
				out = append(out, []byte(p[:i]))
			}
		}
	}
	return out
}
