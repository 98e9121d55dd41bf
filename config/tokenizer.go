package config

import "encoding/json"

// Tokenizer is how the text of builtin, files and jsonl corpora becomes
// tokens.
type Tokenizer struct {
	Kind string `json:"kind" sink:",kind" enum:"bytes|bpe" doc:"bytes: one token per byte, vocabulary 256; bpe: a BPE tokenizer read from Hugging Face files, a pretrained checkpoint's or one trained by sinkrun tokenizer train (byte-level: GPT-2, GPT-NeoX / Pythia, OPT, LLaMA-3, Qwen2; SentencePiece-style: LLaMA-2, Mistral), vocabulary its own; no BOS is added (first_token bos adds it)"`
	Path string `json:"path,omitempty" sink:"path" kinds:"bpe" doc:"a directory holding tokenizer.json, or vocab.json and merges.txt (or a tokenizer.json file), relative to the .sink file"`
	// Vocab is the tokenizer's number of ids, which the compiler reads from
	// its files. The path, not the size, is part of the run's identity.
	Vocab int `json:"-" sink:"-"`
}

// MarshalJSON writes the bytes tokenizer as "bytes", as the setting was
// written before it took arguments, so runs that use it keep their ids.
func (t Tokenizer) MarshalJSON() ([]byte, error) {
	if t.Kind == "" || t.Kind == "bytes" {
		return []byte(`"bytes"`), nil
	}
	type plain Tokenizer
	return json.Marshal(plain(t))
}

// UnmarshalJSON reads both forms MarshalJSON writes.
func (t *Tokenizer) UnmarshalJSON(b []byte) error {
	var kind string
	if err := json.Unmarshal(b, &kind); err == nil {
		*t = Tokenizer{Kind: kind}
		return nil
	}
	type plain Tokenizer
	return json.Unmarshal(b, (*plain)(t))
}
