package compiler

import (
	"strings"
	"testing"
)

// TestErrorTable: bad inputs with the exact errors they produce, positions
// (line:col) included. Each input is the file t.sink (compiled from memory,
// alone); `want` lists every error, in order.
func TestErrorTable(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		// Syntax.
		{"two settings on a line", "experiment a { model { layers 2 heads 4 } }",
			[]string{`t.sink:1:33: unexpected "heads": end the previous setting with a newline or ";" first`}},
		{"missing value", "experiment a {\n  model { layers }\n}",
			[]string{`t.sink:2:18: unexpected "}", expected a value`}},
		{"argument without colon", "experiment a {\n  model { ffn swiglu(hidden 3) }\n}",
			[]string{`t.sink:2:29: unexpected number 3, expected ":" after the argument name (write name: value)`}},
		{"experiment without name", "experiment {\n}",
			[]string{`t.sink:1:12: unexpected "{", expected a name`}},
		{"misspelt keyword", "experimnt a {}",
			[]string{`t.sink:1:1: unexpected "experimnt", expected "experiment NAME { ... }" (did you mean "experiment"?)`}},
		{"unterminated string", "experiment a { model { x \"abc } }",
			[]string{`t.sink:1:26: unterminated string (strings end at a '"' on the same line)`}},
		{"huge number", "experiment a { model { layers 1e999 } }",
			[]string{`t.sink:1:31: number 1e999 is out of range`}},
		{"malformed number", "experiment a { model { layers 12abc } }",
			[]string{`t.sink:1:31: malformed number "12abc"`}},
		{"truncated file", "experiment a {\n  model { layers 2 }",
			[]string{`t.sink:1:14: this "{" is never closed (missing "}")`}},
		{"mismatched bracket", "experiment a {\n  model { layers [1, 2) }\n}",
			[]string{`t.sink:2:23: unexpected ")": the "[" opened at line 2 is not closed`}},
		{"equals sign", "experiment a { model { layers = 2 } }",
			[]string{`t.sink:1:31: unexpected character '='`}},
		{"vary without list", "experiment a { vary model.layers 3 }",
			[]string{`t.sink:1:34: unexpected number 3, expected a list of values [v1, v2, ...]`}},
		{"nesting too deep", "experiment a { model { x " + strings.Repeat("[", 34) + " } }",
			[]string{`t.sink:1:56: nesting too deep (more than 32 levels of brackets)`}},
		{"garbage byte", "experiment a { model { layers \xff } }",
			[]string{`t.sink:1:31: invalid byte 0xff (source must be UTF-8 text)`}},
		{"import after experiment", "experiment a {}\nimport \"b.sink\"",
			[]string{`t.sink:2:1: unexpected "import": imports come first in a file, before any experiment`}},
		{"import without quotes", "import b.sink",
			[]string{`t.sink:1:8: unexpected "b", expected the imported file in double quotes: import "base.sink"`}},
		{"misspelt import", "improt \"x.sink\"\nexperiment a {}",
			[]string{`t.sink:1:1: unexpected "improt", expected "experiment NAME { ... }" (did you mean "import"?)`}},
		{"misspelt extends", "experiment a extend b {}",
			[]string{`t.sink:1:14: unexpected "extend", expected "{" (did you mean "extends"?)`}},
		{"misspelt vary", "experiment a {\n  vray model.layers [1]\n}",
			[]string{`t.sink:2:13: unexpected ".": end the previous setting with a newline or ";" first (did you mean "vary" instead of "vray" at line 2, column 3?)`}},
		{"misspelt zip", "experiment a {\n  vary zpi { model.layers [1] }\n}",
			[]string{`t.sink:2:12: unexpected "{", expected a list of values [v1, v2, ...] (did you mean "zip" instead of "zpi" at line 2, column 8?)`}},
		{"misspelt variants", "experiment a {\n  varaints {\n    b {}\n  }\n}",
			[]string{`t.sink:3:7: unexpected "{", expected a value (did you mean "variants" instead of "varaints" at line 2, column 3?)`}},
		{"misspelt variants, parsed as a block", "experiment a {\n  varaints { x 1 }\n}",
			[]string{`t.sink:2:3: unknown block "varaints": expected one of model, data, train, measure (did you mean "variants"?)`}},
		{"lone word after a block", "experiment a {\n  model { x 1 }\n  data { y 2 } z\n}",
			[]string{`t.sink:3:17: unexpected end of line, expected "{" or a value`}},
		{"blocks on one line", "experiment a {\n  model { layers 0 } data { context 0 }\n}",
			[]string{`t.sink:2:18: model.layers: must be between 1 and 256, found 0`, `t.sink:2:37: data.context: must be between 2 and 65536, found 0`}},
		{"vary inside a variant", "experiment a {\n  variants { b { vary model.layers [1] } }\n}",
			[]string{`t.sink:2:18: vary inside variant "b": a variant is a set of settings, not a grid; put the vary in the experiment (it combines with the variants as a product)`}},

		// Settings: names (with suggestions), types and ranges.
		{"misspelt key", "experiment a {\n  model { layrs 2 }\n}",
			[]string{`t.sink:2:11: unknown setting "layrs" in the model block (did you mean "layers"?)`}},
		{"float for integer", "experiment a {\n  model { heads 2.5 }\n}",
			[]string{`t.sink:2:17: model.heads: expected an integer, found 2.5`}},
		{"string for integer", "experiment a {\n  model { d_model \"wide\" }\n}",
			[]string{`t.sink:2:19: model.d_model: expected an integer, found the string "wide"`}},
		{"integer below range", "experiment a {\n  model { layers 0 }\n}",
			[]string{`t.sink:2:18: model.layers: must be between 1 and 256, found 0`}},
		{"number above range", "experiment a {\n  data { holdout 0.9 }\n}",
			[]string{`t.sink:2:18: data.holdout: must be between 0.001 and 0.5, found 0.9`}},
		{"negative steps", "experiment a {\n  train { steps -5 }\n}",
			[]string{`t.sink:2:17: train.steps: must be at least 0, found -5`}},
		{"not a boolean", "experiment a {\n  model { tied yes }\n}",
			[]string{`t.sink:2:16: model.tied: expected true or false, found yes`}},
		{"misspelt op", "experiment a {\n  model { attention sigmod }\n}",
			[]string{`t.sink:2:21: model.attention: unknown kind "sigmod": expected one of softmax, sigmoid, scaled_softmax, elu, linear, softmax1, softpick, sink_logit (did you mean "sigmoid"?)`}},
		{"misspelt argument", "experiment a {\n  model { ffn swiglu(hiden: 172) }\n}",
			[]string{`t.sink:2:22: model.ffn: unknown argument "hiden"; swiglu takes hidden (did you mean "hidden"?)`}},
		{"argument for another kind", "experiment a {\n  model { position nope(base: 500) }\n}",
			[]string{`t.sink:2:25: model.position: argument "base" does not apply to nope (only to rope)`}},
		{"misspelt enum value", "experiment a {\n  model { norm rmsnorm(placement: pree) }\n}",
			[]string{`t.sink:2:35: model.norm.placement: unknown value "pree": expected one of pre, post (did you mean "pre"?)`}},
		{"quoted enum value", "experiment a {\n  data { tokenizer \"bytes\" }\n}",
			[]string{`t.sink:2:20: data.tokenizer: write bytes without quotes`}},
		{"list length", "experiment a {\n  train { optimizer adamw(betas: [0.9]) }\n}",
			[]string{`t.sink:2:34: train.optimizer.betas: expected a list of 2 values, found 1`}},
		{"scalar for list", "experiment a {\n  train { seeds 1 }\n}",
			[]string{`t.sink:2:17: train.seeds: expected a list of integers, found 1`}},
		{"list element out of range", "experiment a {\n  measure { eps [0.3, 2] }\n}",
			[]string{`t.sink:2:23: measure.eps: must be between 0 and 1, found 2`}},
		{"misspelt block", "experiment a {\n  modle { layers 2 }\n}",
			[]string{`t.sink:2:3: unknown block "modle": expected one of model, data, train, measure (did you mean "model"?)`}},
		{"setting outside a block", "experiment a {\n  layers 2\n}",
			[]string{`t.sink:2:3: layers belongs in the model block: write model { layers ... }`}},
		{"setting in the wrong block", "experiment a {\n  data { steps 10 }\n}",
			[]string{`t.sink:2:10: unknown setting "steps" in the data block; steps belongs in the train block`}},
		{"setting twice", "experiment a {\n  model { layers 2; layers 3 }\n}",
			[]string{`t.sink:2:21: model.layers is already set in this experiment at line 2`}},
		{"several errors in one file",
			"experiment a {\n  model { layrs 2; heads 2.5 }\n  data { contxt 3; holdout 1 }\n  trian {}\n  vary model.layers [0]\n}\nexperiment b extends aa {}",
			[]string{
				`t.sink:2:11: unknown setting "layrs" in the model block (did you mean "layers"?)`,
				`t.sink:2:26: model.heads: expected an integer, found 2.5`,
				`t.sink:3:10: unknown setting "contxt" in the data block (did you mean "context"?)`,
				`t.sink:3:28: data.holdout: must be between 0.001 and 0.5, found 1`,
				`t.sink:4:3: unknown block "trian": expected one of model, data, train, measure (did you mean "train"?)`,
				`t.sink:5:22: model.layers: must be between 1 and 256, found 0`,
				`t.sink:7:22: unknown experiment "aa" (did you mean "a"?)`,
			}},

		// Vary.
		{"misspelt vary path", "experiment a {\n  vary model.atention [softmax]\n}",
			[]string{`t.sink:2:8: vary: unknown setting "model.atention" (did you mean "model.attention"?)`}},
		{"vary path in the wrong block", "experiment a {\n  vary model.lr [1e-3]\n}",
			[]string{`t.sink:2:8: vary: unknown setting "model.lr" (did you mean "train.optimizer.lr"?)`}},
		{"vary seeds", "experiment a {\n  vary train.seeds [[1]]\n}",
			[]string{`t.sink:2:8: vary: seeds are not an axis; list them in train { seeds [...] } and each seed becomes a run`}},
		{"vary value type", "experiment a {\n  vary model.layers [2, three]\n}",
			[]string{`t.sink:2:25: model.layers: expected an integer, found three`}},
		{"empty axis", "experiment a {\n  vary model.heads []\n}",
			[]string{`t.sink:2:20: vary model.heads: the list of values is empty`}},
		{"zip of unequal axes", "experiment a {\n  vary zip { model.d_model [64, 128]; data.context [64] }\n}",
			[]string{`t.sink:2:52: vary zip: data.context has 1 values but model.d_model has 2; zipped axes need the same number of values`}},
		{"value listed twice", "experiment a {\n  vary model.init_std [0.1, 0.2, 1e-1]\n}",
			[]string{`t.sink:2:34: vary model.init_std: value 0.1 is listed twice (first at line 2, column 24)`}},
		{"argument of another kind", "experiment a {\n  vary model.attention.z [sum]\n}",
			[]string{`t.sink:2:27: model.attention.z applies only when model.attention is sigmoid or elu or linear, not softmax`}},

		// Experiments.
		{"experiment twice", "experiment a {}\nexperiment a {}",
			[]string{`t.sink:2:12: experiment "a" is already defined at t.sink:1:12`}},
		{"misspelt parent", "experiment b extends quickstrt {}\nexperiment quickstart {}",
			[]string{`t.sink:1:22: unknown experiment "quickstrt" (did you mean "quickstart"?)`}},
		{"parent defined later", "experiment c extends later {}\nexperiment later {}",
			[]string{`t.sink:1:22: experiment "later" is defined later in this file (line 2); define it before "c"`}},

		// Whole-run checks.
		{"heads do not divide", "experiment a {\n  model { heads 3 }\n}",
			[]string{`t.sink:2:17: heads (3) must divide d_model (128), or set head_dim`}},
		{"odd rope head", "experiment a {\n  model { head_dim 7 }\n}",
			[]string{`t.sink:2:20: rope needs an even head dimension, but head_dim is 7`}},
		{"probe longer than context", "experiment a {\n  data { context 32 }\n}",
			[]string{`t.sink:2:18: measure.probe_length (64) must be at most data.context (32); set probe_length too`}},
		{"vocab too small", "experiment a {\n  model { vocab 100 }\n}",
			[]string{`t.sink:2:17: model.vocab (100) is smaller than the bytes tokenizer's vocabulary (256)`}},
		{"files without paths", "experiment a {\n  data { corpus files }\n}",
			[]string{`t.sink:2:17: data.corpus: files needs at least one path, e.g. files(paths: ["data/*.txt"])`}},
		{"seed twice", "experiment a {\n  train { seeds [1, 2, 1] }\n}",
			[]string{`t.sink:2:17: train.seeds: seed 1 is listed twice`}},
		{"too many triggers", "experiment a {\n  data { corpus bigram_backcopy(vocab: 4, triggers: 4) }\n}",
			[]string{`t.sink:2:53: data.corpus: triggers (4) must be fewer than vocab (4)`}},

		// Variants.
		{"no variants", "experiment a {\n  variants {}\n}",
			[]string{`t.sink:2:3: variants: list at least one variant, e.g. variants { baseline {}; small_lr { train { optimizer adamw(lr: 1e-4) } } }`}},
		{"variant twice", "experiment a {\n  variants {\n    b {}\n    b {}\n  }\n}",
			[]string{`t.sink:4:5: variant "b" is already listed at line 3`}},
		{"misspelt block in a variant", "experiment a {\n  variants {\n    b { modl { layers 2 } }\n  }\n}",
			[]string{`t.sink:3:9: unknown block "modl": expected one of model, data, train, measure (did you mean "model"?)`}},
		{"setting outside a block in a variant", "experiment a {\n  variants {\n    b { layers 2 }\n  }\n}",
			[]string{`t.sink:3:9: layers belongs in the model block: write model { layers ... }`}},
		{"seeds in a variant", "experiment a {\n  variants {\n    b { train { seeds [3] } }\n  }\n}",
			[]string{`t.sink:3:23: train.seeds cannot be set in a variant: every variant runs once per seed of the experiment`}},
		{"whole-run check at the variant's value", "experiment a {\n  variants {\n    b { model { heads 3 } }\n  }\n}",
			[]string{`t.sink:3:23: heads (3) must divide d_model (128), or set head_dim`}},
		{"identical variants", "experiment a {\n  variants {\n    b {}\n    c { model { layers 4 } }\n  }\n}",
			[]string{`t.sink:4:5: experiment "a" has two identical runs (variant b and variant c give the same settings); remove one of them`}},
		{"variant and vary set the same setting",
			"experiment a {\n  vary model.attention [softmax, sigmoid]\n  vary model.attention.z [one, sum]\n  variants {\n    b { model { attention sigmoid(z: sum) } }\n  }\n}",
			[]string{
				`t.sink:5:27: variant "b" sets model.attention, which is also varied at line 2; set it in one place only`,
				`t.sink:5:27: variant "b" sets model.attention, which is also varied at line 3 (through model.attention.z); set it in one place only`,
			}},
		{"two variants blocks", "experiment a {\n  variants { b {} }\n  variants { c {} }\n}",
			[]string{`t.sink:3:3: variants are already listed in this experiment at line 2; list them all in one variants block`}},
		{"vary variant", "experiment a {\n  vary variant [b]\n}",
			[]string{`t.sink:2:8: vary: variant is not a setting; list named variants in a variants { ... } block`}},
		{"variants written as a block", "experiment a {\n  variants { x 1 }\n}",
			[]string{`t.sink:2:3: variants lists named sets of settings: variants { NAME { BLOCK { SETTINGS } } ... }, e.g. variants { baseline {}; small_lr { train { optimizer adamw(lr: 1e-4) } } }`}},

		// Imports.
		{"missing import", "import \"missing.sink\"\nexperiment a {}",
			[]string{`t.sink:1:8: cannot import "missing.sink": missing.sink: no such file`}},
		{"file imports itself", "import \"t.sink\"\nexperiment a {}",
			[]string{`t.sink:1:8: import cycle: t.sink -> t.sink`}},
	} {
		_, err := Compile(map[string][]byte{"t.sink": []byte(tc.src)})
		var got []string
		for _, e := range asList(err) {
			got = append(got, e.Error())
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
