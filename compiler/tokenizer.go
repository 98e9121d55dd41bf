package compiler

import (
	"path/filepath"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
	"github.com/sinkrun/sinkrun/runtime/tokenizer"
)

// tokenizerSize is what reading one tokenizer's files gave.
type tokenizerSize struct {
	size int
	err  error
}

// resolveTokenizer reads the files of a bpe data.tokenizer, relative to the
// file that sets its path, for the vocabulary size the model and the data
// take from it; a missing or unreadable tokenizer is reported at the
// setting. Each tokenizer is read once per compile.
func (c *compiler) resolveTokenizer(d *config.Data, origins map[string]origin, es *expState, at func(...string) dsl.Pos) {
	t := &d.Tokenizer
	if t.Kind != "bpe" {
		return
	}
	pos := at("data.tokenizer.path", "data.tokenizer")
	if t.Path == "" {
		c.errorf(pos, "data.tokenizer: bpe needs the path of the tokenizer's files, e.g. bpe(path: \"gpt2/\")")
		return
	}
	dir := c.sourceDir(es.file)
	if o, ok := origins["data.tokenizer.path"]; ok && o.owner != nil {
		dir = c.sourceDir(o.owner.file)
	}
	path := filepath.FromSlash(t.Path)
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	if c.tokenizers == nil {
		c.tokenizers = map[string]tokenizerSize{}
	}
	r, ok := c.tokenizers[path]
	if !ok {
		tok, err := tokenizer.Load(path)
		r.err = err
		if err == nil {
			r.size = tok.Size()
		}
		c.tokenizers[path] = r
	}
	if r.err != nil {
		c.errorf(pos, "data.tokenizer: %v", r.err)
		return
	}
	t.Vocab = r.size
}
