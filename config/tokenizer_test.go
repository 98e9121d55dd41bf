package config

import (
	"encoding/json"
	"testing"
)

// The bytes tokenizer keeps the JSON it had as a plain enum (so run ids do
// not change); bpe writes its kind and path, not the size the compiler read.
func TestTokenizerJSON(t *testing.T) {
	for _, c := range []struct {
		tok  Tokenizer
		json string
		back Tokenizer
	}{
		{Tokenizer{Kind: "bytes"}, `"bytes"`, Tokenizer{Kind: "bytes"}},
		{Tokenizer{}, `"bytes"`, Tokenizer{Kind: "bytes"}},
		{Tokenizer{Kind: "bpe", Path: "gpt2/", Vocab: 50257}, `{"kind":"bpe","path":"gpt2/"}`, Tokenizer{Kind: "bpe", Path: "gpt2/"}},
	} {
		b, err := json.Marshal(c.tok)
		if err != nil || string(b) != c.json {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", c.tok, b, err, c.json)
		}
		var back Tokenizer
		if err := json.Unmarshal(b, &back); err != nil || back != c.back {
			t.Errorf("Unmarshal(%s) = %+v, %v; want %+v", b, back, err, c.back)
		}
	}
	if d := Default().Data; d.Tokenizer.Kind != "bytes" || d.VocabSize() != 256 {
		t.Errorf("default tokenizer %+v, vocab %d", d.Tokenizer, d.VocabSize())
	}
	d := Default().Data
	d.Tokenizer = Tokenizer{Kind: "bpe", Path: "gpt2/", Vocab: 50257}
	if v := d.VocabSize(); v != 50257 {
		t.Errorf("bpe VocabSize() = %d, want the tokenizer's 50257", v)
	}
}
