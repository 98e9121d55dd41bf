package data

import (
	"fmt"
	"path/filepath"
	"unicode/utf8"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/formats/tokenizer"
)

// textTokenizer turns the documents of a text corpus into tokens with a
// bpe tokenizer (data.tokenizer bpe(path: ...)).
type textTokenizer struct {
	tok  *tokenizer.Tokenizer
	path string  // as the config writes it
	sep  []int32 // the separator's tokens: "\n" tokenized, the eot token, or none
	ids  []int   // scratch
}

// loadTokenizer reads the bpe tokenizer of cfg, relative to baseDir; nil
// for the bytes tokenizer. Its vocabulary must be the one the compiler read
// (cfg.Tokenizer.Vocab).
func loadTokenizer(cfg config.Data, baseDir string) (*textTokenizer, error) {
	t := cfg.Tokenizer
	if t.Kind != "bpe" {
		return nil, nil
	}
	path := filepath.FromSlash(t.Path)
	if !filepath.IsAbs(path) {
		path = filepath.Join(baseDir, path)
	}
	tok, err := tokenizer.Load(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if tok.Size() != t.Vocab {
		return nil, fmt.Errorf("data: tokenizer %s has %d token ids, not the %d it had when the run was checked", tok.Source(), tok.Size(), t.Vocab)
	}
	tt := &textTokenizer{tok: tok, path: t.Path}
	switch cfg.Separator.Kind {
	case "eot":
		tt.sep = []int32{int32(cfg.Separator.Token)}
	case "none":
	default: // newline: the tokens of "\n" on its own
		for _, id := range tok.AppendText(nil, "\n") {
			tt.sep = append(tt.sep, int32(id))
		}
	}
	return tt, nil
}

// describe is the corpus description's note on the tokenizer.
func (t *textTokenizer) describe() string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf(", bpe tokenizer %s (%d ids)", t.path, t.tok.Size())
}

// addTokenized appends a text document tokenized by j.tok, after the
// separator's tokens unless the stream is empty. With a limit, documents
// are read up to limit bytes of text (separators not counted), the last one
// cut at a character boundary; it reports whether the limit is reached.
func (j *joiner) addTokenized(doc []byte) bool {
	full := false
	if j.limit > 0 && j.textBytes+len(doc) >= j.limit {
		n := j.limit - j.textBytes
		for n > 0 && n < len(doc) && !utf8.RuneStart(doc[n]) {
			n--
		}
		if n == 0 {
			return true
		}
		doc, full = doc[:n], true
	}
	j.textBytes += len(doc)
	if len(j.d) > 0 {
		j.d = append(j.d, j.tok.sep...)
	}
	j.tok.ids = j.tok.tok.AppendText(j.tok.ids[:0], string(doc))
	for _, id := range j.tok.ids {
		j.d = append(j.d, int32(id))
	}
	return full
}
