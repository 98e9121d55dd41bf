package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sinkrun/sinkrun/internal/atomicfile"
)

// Write writes the tokenizer into dir (created if missing) as GPT-2's
// files: vocab.json (token -> id, one a line in id order, EndOfText last)
// and merges.txt (a "#version: 0.2" line, then "left right" a line in rank
// order), tokens spelled as byte-level runes. Load(dir) reads them back.
func (t *Trained) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	runes := byteRunes()
	spell := make([]string, len(t.tokens))
	for id, tok := range t.tokens {
		spell[id] = tokenString(&runes, tok)
	}
	var vocab bytes.Buffer
	vocab.WriteString("{\n")
	for id, s := range append(spell, EndOfText) {
		if id > 0 {
			vocab.WriteString(",\n")
		}
		fmt.Fprintf(&vocab, "%s: %d", jsonString(s), id)
	}
	vocab.WriteString("\n}\n")
	var merges bytes.Buffer
	merges.WriteString("#version: 0.2\n")
	for _, m := range t.merges {
		fmt.Fprintf(&merges, "%s %s\n", spell[m[0]], spell[m[1]])
	}
	for name, data := range map[string][]byte{VocabJSON: vocab.Bytes(), MergesTXT: merges.Bytes()} {
		if err := atomicfile.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
	}
	return nil
}

// jsonString quotes s as JSON without escaping <, > and & (EndOfText stays
// readable).
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
