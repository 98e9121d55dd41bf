package compiler

import (
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/config"
)

// TestDataAxes: the data and probe settings resolve into the run, grow the
// model's vocabulary with dedicated ids and become runs-table columns.
func TestDataAxes(t *testing.T) {
	exps := compileOne(t, `
experiment plain {}
experiment axes {
  data {
    corpus tokens(paths: ["data/train.bin", "data/val.bin"], vocab: 50257, max_tokens: 1000000)
    separator eot(token: 50257)
    first_token fixed(token: 50256)
    unique_tokens 100000
  }
  measure { probe repeated(token: 50257) }
  vary zip {
    data.fixed_token [none, fixed(position: 2, token: 50258)]
    data.random_tokens [span(from: 2, to: 9), span(from: 3, to: 9)]
  }
}
experiment text {
  data {
    corpus jsonl(paths: ["docs.jsonl"], field: "body")
    separator eot
  }
}
`)
	// Settings left at their defaults stay out of the run's JSON: run ids
	// from before they existed still hold.
	plain := find(t, exps, "plain").Runs[0].JSON()
	for _, key := range []string{`"separator"`, `"fixed_token"`, `"random_tokens"`, `"unique_tokens"`, `"probe":`, `"field"`, `"max_tokens"`} {
		if strings.Contains(plain, key) {
			t.Errorf("a run without the new settings has %s in its JSON: %s", key, plain)
		}
	}

	axes := find(t, exps, "axes").Runs
	if len(axes) != 2 {
		t.Fatalf("%d runs", len(axes))
	}
	for i, want := range []int{50258, 50259} { // eot 50257; the fixed token 50258 in the second run
		r := axes[i]
		if r.Model.Vocab != want {
			t.Errorf("run %d: model.vocab %d, want %d", i, r.Model.Vocab, want)
		}
		if r.Data.Corpus.Paths[1] != "data/val.bin" || r.Data.UniqueTokens != 100000 || r.Measure.Probe != (config.Probe{Kind: "repeated", Token: 50257}) {
			t.Errorf("run %d: %+v %+v", i, r.Data, r.Measure.Probe)
		}
	}
	cols := map[string]any{}
	for _, c := range config.Flatten(axes[1]) {
		cols[c.Name] = c.Value
	}
	for name, want := range map[string]any{
		"data_corpus": "tokens", "data_corpus_vocab": int64(50257), "data_corpus_max_tokens": int64(1000000),
		"data_corpus_field": "", "data_separator": "eot", "data_separator_token": int64(50257),
		"data_fixed_token": "fixed", "data_fixed_token_position": int64(2), "data_fixed_token_token": int64(50258),
		"data_random_tokens": "span", "data_random_tokens_from": int64(3), "data_random_tokens_to": int64(9),
		"data_unique_tokens": int64(100000), "measure_probe": "repeated", "measure_probe_token": int64(50257),
	} {
		if cols[name] != want {
			t.Errorf("column %s = %#v, want %#v", name, cols[name], want)
		}
	}

	text := find(t, exps, "text").Runs[0]
	if text.Model.Vocab != 257 || text.Data.Separator.Token != 256 || text.Data.Corpus.Field != "body" {
		t.Errorf("jsonl with the default eot: vocab %d, %+v, field %q", text.Model.Vocab, text.Data.Separator, text.Data.Corpus.Field)
	}
}

// TestDocumentAttention: data.document_attention within turns on the model's
// document mask at the eot separator's id; across (the default) leaves the
// run as it was, id included.
func TestDocumentAttention(t *testing.T) {
	exps := compileOne(t, `
experiment packed {
  data {
    separator eot(token: 300)
    first_token fixed(token: 300)
  }
  vary data.document_attention [across, within]
}
experiment plain {
  data {
    separator eot(token: 300)
    first_token fixed(token: 300)
  }
}
`)
	runs := find(t, exps, "packed").Runs
	across, within := runs[0], runs[1]
	if across.Model.DocumentMask || !within.Model.DocumentMask || within.Model.DocumentToken != 300 {
		t.Errorf("document mask: across %v, within %v (token %d), want false, true (300)", across.Model.DocumentMask, within.Model.DocumentMask, within.Model.DocumentToken)
	}
	plain := find(t, exps, "plain").Runs[0]
	plain.Experiment, plain.Varied = across.Experiment, across.Varied
	if plain.ID() != across.ID() || strings.Contains(plain.JSON(), "document") {
		t.Errorf("across changes the run: %s against %s", across.JSON(), plain.JSON())
	}
	if !strings.Contains(within.JSON(), `"document_attention":"within"`) || !strings.Contains(within.JSON(), `"document_mask":true`) {
		t.Errorf("within is not in the run's JSON: %s", within.JSON())
	}
	cols := map[string]any{}
	for _, c := range config.Flatten(within) {
		cols[c.Name] = c.Value
	}
	if cols["data_document_attention"] != "within" {
		t.Errorf("column data_document_attention = %#v, want within", cols["data_document_attention"])
	}
}
