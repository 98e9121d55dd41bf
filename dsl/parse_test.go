package dsl

import (
	"os"
	"strings"
	"testing"
)

func TestParseQuickstart(t *testing.T) {
	src, err := os.ReadFile("testdata/quickstart.sink")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("q.sink", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Experiments) != 2 {
		t.Fatalf("%d experiments", len(f.Experiments))
	}
	e := f.Experiments[0]
	if e.Name != "quickstart" || e.Pos != (Pos{"q.sink", 2, 1}) || e.NamePos != (Pos{"q.sink", 2, 12}) {
		t.Errorf("header %+v", e)
	}
	if len(e.Blocks) != 4 || e.Blocks[0].Name != "model" || len(e.Blocks[0].Settings) != 7 {
		t.Fatalf("blocks %+v", e.Blocks)
	}
	heads := e.Blocks[0].Settings[1]
	if heads.Key != "heads" || heads.Pos != (Pos{"q.sink", 4, 15}) {
		t.Errorf("heads %+v", heads)
	}
	if n, ok := heads.Value.(*Number); !ok || !n.IsInt || n.Int != 4 || n.Pos != (Pos{"q.sink", 4, 21}) {
		t.Errorf("heads value %#v", heads.Value)
	}
	ffn := e.Blocks[0].Settings[3].Value.(*Call)
	if ffn.Name != "swiglu" || len(ffn.Args) != 1 || ffn.Args[0].Name != "hidden" || ffn.Args[0].Value.(*Number).Int != 172 {
		t.Errorf("ffn %#v", ffn)
	}
	if id, ok := e.Blocks[0].Settings[6].Value.(*Ident); !ok || id.Name != "softmax" {
		t.Errorf("attention %#v", e.Blocks[0].Settings[6].Value)
	}
	opt := e.Blocks[2].Settings[2].Value.(*Call)
	if lr := opt.Args[0].Value.(*Number); lr.IsInt || lr.Float != 3e-3 || lr.Text != "3e-3" {
		t.Errorf("lr %#v", lr)
	}
	if betas := opt.Args[1].Value.(*List); len(betas.Elems) != 2 {
		t.Errorf("betas %#v", betas)
	}
	corpus := e.Blocks[1].Settings[0].Value.(*Call)
	if s := corpus.Args[0].Value.(*List).Elems[0].(*String); s.Value != "data/*.txt" {
		t.Errorf("paths %#v", s)
	}
	if len(e.Varies) != 3 || e.Varies[0].Axes[0].Path != "model.attention" || e.Varies[0].Zip ||
		!e.Varies[2].Zip || len(e.Varies[2].Axes) != 2 || e.Varies[2].Axes[1].Path != "data.context" {
		t.Errorf("varies %+v", e.Varies)
	}
	if c := e.Varies[0].Axes[0].Values.Elems[2].(*Call); c.Name != "sigmoid" || c.Args[0].Value.(*Ident).Name != "sum" {
		t.Errorf("sigmoid(z: sum) %#v", c)
	}
	if b := f.Experiments[1]; b.Extends != "quickstart" || b.ExtendsPos != (Pos{"q.sink", 26, 27}) {
		t.Errorf("extends %+v", b)
	}
}

func TestParseOK(t *testing.T) {
	for _, src := range []string{
		"",
		"\n\n# only a comment\n// and another\n",
		"experiment a {}",
		"experiment a {}experiment b {}",
		"experiment a { model {} ; data {}; }",
		"experiment a {\n\n  model {\n\n    layers 2\n\n  }\n\n}\n",
		"experiment a { model { layers 2 } }",
		"experiment a { model { layers 2; } }",
		"experiment a { model { x [\n 1,\n 2,\n] } }",
		"experiment a { model { x f(\n a: 1,\n b: [2],\n) } }",
		"experiment a { model { x f() } }",
		"experiment a { model { x [] } }",
		"experiment a { model { x [[1, 2], [3]] } }",
		"experiment a { model { x -1.5e-3 } }",
		"experiment a { vary zip {} }",
		"experiment a { vary zip { a.b [1]\n c.d [2] } }",
		"experiment a\n{\n}\n",
		"experiment a { model { s \"\\u00e9\\t\\\"\" } }",
		"experiment a { model {\r\n layers 2\r\n } }\r\n",
		"experiment vary { vary { zip 1 } }", // keywords are ordinary identifiers elsewhere
		"import \"a.sink\"",
		"import \"a.sink\"; import \"b/c.sink\"\n\nexperiment a {}",
		"# c\nimport \"a.sink\" # c\nexperiment import {}",
		"experiment a { variants {} }",
		"experiment a { variants { b {}; c { model { x 1 }; data { y 2 } } } }",
		"experiment a {\n  variants\n  {\n    b\n    {\n      model { x 1 }\n    }\n  }\n}",
		"experiment variants { model { variants 1 } }",
		// Blocks end at their "}": the next one may follow on the same line.
		"experiment a { variants { b { model { x 1 } } c {} } }",
		"experiment a { variants { fixed_second { data { fixed_token fixed(position: 2) } model { bias k } } } }",
		"experiment a { model { x 1 } data { y [1,\n 2] } vary zip { a.b [1] } variants { c {} } vary x.y [1] }",
	} {
		if _, err := Parse("t.sink", []byte(src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"experiment a { model { layers 2 heads 4 } }", `t.sink:1:33: unexpected "heads": end the previous setting`},
		{"experiment a {\n  model { layers }\n}", `t.sink:2:18: unexpected "}", expected a value`},
		{"experiment a { model { x \"abc } }", "t.sink:1:26: unterminated string"},
		{"experiment a { model { x \"abc\n\" } }", "t.sink:1:26: unterminated string"},
		{"experiment a { model { x 99999999999999999999 } }", "t.sink:1:26: integer 99999999999999999999 is out of range"},
		{"experiment a { model { x -1e400 } }", "t.sink:1:26: number -1e400 is out of range"},
		{"experiment a {", `t.sink:1:14: this "{" is never closed (missing "}")`},
		{"experiment a { model { x f(a: [1) } }", `t.sink:1:33: unexpected ")": the "[" opened at line 1 is not closed`},
		{"experiment a { } }", `t.sink:1:18: unexpected "}": no "{" is open`},
		{"experiment a { model { x \x00 } }", "t.sink:1:26: invalid control character U+0000"},
		{"experiment a { model { x \xc3 } }", "t.sink:1:26: invalid byte 0xc3"},
		{"experiment a { model { x ü } }", "t.sink:1:26: unexpected character 'ü'"},
		{"é experiment", "t.sink:1:1: unexpected character 'é'"},
		{"experiment a { model { x 1 } } trailing", `t.sink:1:32: unexpected "trailing", expected "experiment NAME { ... }"`},
		{"experiment a { model { x 1 }", `t.sink:1:14: this "{" is never closed`},
		{"experiment a { vary model.x [1] [2] }", `unexpected "["`},
		{"experiment a { model { x 1.2.3 } }", `malformed number "1.2.3"`},
		{strings.Repeat("[", 40), "nesting too deep"},
		{"experiment a {}\nimport \"b.sink\"", `t.sink:2:1: unexpected "import": imports come first in a file, before any experiment`},
		{"import b", `t.sink:1:8: unexpected "b", expected the imported file in double quotes`},
		{"import \"b\" experiment a {}", `t.sink:1:12: unexpected "experiment": end the import with a newline or ";" first`},
		{"experiment a { variants { b { vary x.y [1] } } }", `t.sink:1:31: vary inside variant "b": a variant is a set of settings, not a grid`},
		{"experiment a { variants { b { variants { c {} } } } }", `t.sink:1:31: variants inside variant "b": variants do not nest`},
	} {
		_, err := Parse("t.sink", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.src, err, tc.want)
		}
		if _, ok := err.(*Error); err != nil && !ok {
			t.Errorf("%q: error type %T", tc.src, err)
		}
	}
}

func TestHugeInputs(t *testing.T) {
	// Deep nesting and long inputs are errors or fine, never a crash.
	deep := "experiment a { model { x " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + " } }"
	if _, err := Parse("t.sink", []byte(deep)); err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Errorf("deep: %v", err)
	}
	long := "experiment a { model { x [" + strings.Repeat("1, ", 100000) + "] } }"
	if _, err := Parse("t.sink", []byte(long)); err != nil {
		t.Errorf("long list: %v", err)
	}
}

func TestPosString(t *testing.T) {
	if s := (Pos{"a.sink", 3, 7}).String(); s != "a.sink:3:7" {
		t.Error(s)
	}
	l := ErrorList{{Pos: Pos{"b", 2, 1}, Msg: "y"}, {Pos: Pos{"a", 9, 1}, Msg: "x"}}
	l.Sort()
	if l.Error() != "a:9:1: x\nb:2:1: y" {
		t.Error(l.Error())
	}
}

func TestParseImportsAndVariants(t *testing.T) {
	src := "import \"../base.sink\"\nexperiment a extends b {\n  vary model.layers [1]\n  variants {\n    base {}\n    sum { model { attention sigmoid(z: sum) }; data { context 32 } }\n    odd { layers 2 }\n  }\n}\n"
	f, err := Parse("v.sink", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Imports) != 1 || f.Imports[0].Path != "../base.sink" || f.Imports[0].Pos != (Pos{"v.sink", 1, 1}) || f.Imports[0].PathPos != (Pos{"v.sink", 1, 8}) {
		t.Errorf("imports %+v", f.Imports)
	}
	e := f.Experiments[0]
	if len(e.Varies) != 2 || e.Varies[0].IsVariants || !e.Varies[1].IsVariants {
		t.Fatalf("varies %+v", e.Varies)
	}
	v := e.Varies[1]
	if v.Pos != (Pos{"v.sink", 4, 3}) || len(v.Variants) != 3 || len(v.Axes) != 0 {
		t.Fatalf("variants %+v", v)
	}
	base, sum, odd := v.Variants[0], v.Variants[1], v.Variants[2]
	if base.Name != "base" || base.Pos != (Pos{"v.sink", 5, 5}) || len(base.Blocks) != 0 {
		t.Errorf("base %+v", base)
	}
	if sum.Name != "sum" || len(sum.Blocks) != 2 || sum.Blocks[1].Name != "data" || sum.Blocks[0].Settings[0].Key != "attention" {
		t.Errorf("sum %+v", sum)
	}
	if len(odd.Stray) != 1 || odd.Stray[0].Key != "layers" || odd.Stray[0].Pos != (Pos{"v.sink", 7, 11}) {
		t.Errorf("odd %+v", odd)
	}
}

// TestParseErrorAfterBlock: a block needs no separator before the next
// statement, but a lone word after it is neither a block nor a setting.
func TestParseErrorAfterBlock(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"experiment a { variants { b {}; c { model { x 1 }; data { y 2 } z } } }", `t.sink:1:67: unexpected "}", expected "{" or a value`},
		{"experiment a {\n  model { x 1 }\n  data { y 2 } z\n}", `t.sink:3:17: unexpected end of line, expected "{" or a value`},
		{"experiment a { model { x 1 } layers }", `t.sink:1:37: unexpected "}", expected "{" or a value`},
		{"experiment a { vary model.x [1] data { y 2 } }", `t.sink:1:33: unexpected "data": end the previous setting with a newline or ";" first`},
		{"import \"b\" experiment a {} experiment b {}", `t.sink:1:12: unexpected "experiment": end the import`},
		{"experiment a {} experiment b {} x", `t.sink:1:33: unexpected "x", expected "experiment NAME { ... }"`},
	} {
		_, err := Parse("t.sink", []byte(tc.src))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.src, err, tc.want)
		}
	}
}

func TestParseExpect(t *testing.T) {
	src := "experiment a {\n  expect {\n    sink_1[attention: softmax] > sink_1[attention: sigmoid] + 50 # paper\n" +
		"    disagrees sink_2(eps: 0.5)[model.bias: k, variant: b] <= 5 -val_loss - 2\n  }\n}\n"
	f, err := Parse("e.sink", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e := f.Experiments[0]
	if len(e.Expects) != 1 || e.Expects[0].Pos != (Pos{"e.sink", 2, 3}) || len(e.Expects[0].Claims) != 2 {
		t.Fatalf("expects %+v", e.Expects)
	}
	c1, c2 := e.Expects[0].Claims[0], e.Expects[0].Claims[1]
	if c1.Disagrees || c1.Op != ">" || c1.OpPos != (Pos{"e.sink", 3, 32}) || c1.Pos != (Pos{"e.sink", 3, 5}) {
		t.Errorf("claim 1 %+v", c1)
	}
	l := c1.Left.Terms[0].Metric
	if l.Name != "sink_1" || len(l.Selector) != 1 || l.Selector[0].Path != "attention" || l.Selector[0].Pos != (Pos{"e.sink", 3, 12}) {
		t.Errorf("left %+v", l)
	}
	if r := c1.Right.Terms; len(r) != 2 || r[1].Neg || r[1].Number.Int != 50 || r[1].Pos != (Pos{"e.sink", 3, 63}) {
		t.Errorf("right %+v", r)
	}
	if !c2.Disagrees || c2.Op != "<=" || c2.Left.Terms[0].Metric.Args[0].Name != "eps" ||
		c2.Left.Terms[0].Metric.Selector[0].Path != "model.bias" {
		t.Errorf("claim 2 %+v", c2)
	}
	// A number glued to its sign is a term: `5 -val_loss - 2` is 5 - val_loss - 2.
	if r := c2.Right.Terms; len(r) != 3 || !r[1].Neg || r[1].Metric.Name != "val_loss" || !r[2].Neg || r[2].Number.Text != "2" {
		t.Errorf("claim 2 right %+v", r)
	}
	want := []string{
		"sink_1[attention: softmax] > sink_1[attention: sigmoid] + 50",
		"disagrees sink_2(eps: 0.5)[model.bias: k, variant: b] <= 5 - val_loss - 2",
	}
	for i, c := range []*Claim{c1, c2} {
		if c.String() != want[i] {
			t.Errorf("String: %q, want %q", c.String(), want[i])
		}
	}
}

func TestExpectErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"experiment a { expect { sink_1 5 } }", `t.sink:1:34: unexpected "}", expected "<", ">", "<=" or ">="`},
		{"experiment a { expect { sink_1 > } }", `t.sink:1:34: unexpected "}", expected a number or a metric`},
		{"experiment a { expect { sink_1 > 5 6 } }", `t.sink:1:36: unexpected number 6: write + 6 or - 6 to add or subtract it`},
		{"experiment a { expect { sink_1 > 5 x } }", `t.sink:1:36: unexpected "x": end the claim with a newline or ";" first`},
		{"experiment a { expect { > 5 } }", `t.sink:1:25: unexpected ">", expected a claim, e.g. sink_1[attention: softmax] > 50`},
		{"experiment a { expect { sink_1[a b] > 1 } }", `t.sink:1:34: unexpected "b", expected ":" after the setting path (write path: value)`},
		{"experiment a { expect { sink_1[: b] > 1 } }", `t.sink:1:32: unexpected ":", expected a setting path (write sink_1[path: value])`},
		{"experiment a { expect { sink_1[a: b c] > 1 } }", `t.sink:1:37: unexpected "c", expected "," or "]"`},
		{"experiment a { expect { sink_1 = 5 } }", `t.sink:1:32: unexpected character '='`},
		{"experiment a { expcet { sink_1[a: b] > 1 } }", `(did you mean "expect" instead of "expcet" at line 1, column 16?)`},
		{"experiment a { variants { b { expect { x > 1 } } } }", `t.sink:1:31: expect inside variant "b": state expectations in the experiment, selecting the variant: sink_1[variant: b] > 50`},
	} {
		_, err := Parse("t.sink", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.src, err, tc.want)
		}
	}
}
