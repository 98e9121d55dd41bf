package compiler

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/dsl"
	"github.com/sinkrun/sinkrun/formats/tokenizer"
)

// tokenizerInfo is what reading one tokenizer's files gave.
type tokenizerInfo struct {
	tok    *tokenizer.Tokenizer
	size   int
	bos    int // -1: the tokenizer has no BOS token
	source string
	err    error
}

// loadTokenizer reads the tokenizer at path (absolute or relative to the
// working directory) once per compile.
func (c *compiler) loadTokenizer(path string) tokenizerInfo {
	if c.tokenizers == nil {
		c.tokenizers = map[string]tokenizerInfo{}
	}
	if r, ok := c.tokenizers[path]; ok {
		return r
	}
	r := tokenizerInfo{bos: -1, source: path}
	tok, err := tokenizer.Load(path)
	r.err = err
	if err == nil {
		r.tok, r.size, r.source = tok, tok.Size(), tok.Source()
		if id, ok := tok.BOS(); ok {
			r.bos = id
		}
	}
	c.tokenizers[path] = r
	return r
}

// settingPath is a path written in the .sink file that set the setting at
// key (an inherited one: relative to its own file), made usable from the
// working directory as the file's name is (so messages show it as the
// user wrote the file's).
func (c *compiler) settingPath(p, key string, origins map[string]origin, es *expState) string {
	dir := filepath.Dir(es.file)
	if o, ok := origins[key]; ok && o.owner != nil {
		dir = filepath.Dir(o.owner.file)
	}
	path := filepath.FromSlash(p)
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	return path
}

// resolveTokenizer reads the files of a bpe data.tokenizer, relative to the
// file that sets its path, for the vocabulary size the model and the data
// take from it and for a bos first token; a missing or unreadable tokenizer
// is reported at the setting. It returns the tokenizer read, if any.
func (c *compiler) resolveTokenizer(d *config.Data, origins map[string]origin, es *expState, at func(...string) dsl.Pos) (tokenizerInfo, bool) {
	t := &d.Tokenizer
	if t.Kind != "bpe" {
		return tokenizerInfo{}, false
	}
	pos := at("data.tokenizer.path", "data.tokenizer")
	if t.Path == "" {
		c.errorf(pos, "data.tokenizer: bpe needs the path of the tokenizer's files, e.g. bpe(path: \"gpt2/\")")
		return tokenizerInfo{}, false
	}
	path := c.settingPath(t.Path, "data.tokenizer.path", origins, es)
	r := c.loadTokenizer(path)
	if r.err != nil {
		c.errorf(pos, "%s: %v%s", tokenizerSetting(origins), r.err, checkpointTokenizerHint(path, origins))
		return tokenizerInfo{}, false
	}
	t.Vocab = r.size
	return r, true
}

// tokenizerSetting names the setting a tokenizer came from in messages:
// data.tokenizer, or model.checkpoint for a checkpoint's own.
func tokenizerSetting(origins map[string]origin) string {
	if o, ok := origins["data.tokenizer"]; ok && o.derived {
		return "model.checkpoint: the checkpoint's tokenizer"
	}
	return "data.tokenizer"
}

// checkpointTokenizerHint says what to add when a checkpoint read as text
// has no tokenizer files: "" for a tokenizer the file names itself, or a
// checkpoint directory that has some.
func checkpointTokenizerHint(dir string, origins map[string]origin) string {
	if o, ok := origins["data.tokenizer"]; !ok || !o.derived {
		return ""
	}
	for _, f := range []string{tokenizer.TokenizerJSON, tokenizer.VocabJSON} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return ""
		}
	}
	return fmt.Sprintf(". Text data is read with the tokenizer the model was trained with: copy its %s (or %s and %s) into %s, "+
		"or name it with data { tokenizer bpe(path: \"DIR\") }; a model sinkrun trained on bytes (exported without a tokenizer) "+
		"reads bytes: data { tokenizer bytes }; synthetic ids (corpus bigram_backcopy or tokens) need no tokenizer",
		tokenizer.TokenizerJSON, tokenizer.VocabJSON, tokenizer.MergesTXT, dir)
}

// resolveFirstToken fills in the id of a bos first token: the tokenizer's
// BOS, which must exist.
func (c *compiler) resolveFirstToken(d *config.Data, tok tokenizerInfo, haveTok bool, at func(...string) dsl.Pos) {
	ft := &d.FirstToken
	if ft.Kind != "bos" {
		return
	}
	pos := at("data.first_token")
	switch {
	case d.Tokenizer.Kind != "bpe":
		c.errorf(pos, "data.first_token: bos is the tokenizer's BOS token, and the %s tokenizer has none; use fixed(token: ID) or a bpe tokenizer (a checkpoint's)", d.Tokenizer.Kind)
	case !haveTok:
		// the tokenizer's error is reported at its setting
	case tok.bos < 0:
		c.errorf(pos, "data.first_token: bos: tokenizer %s has no BOS token (its tokenizer_config.json names none); use none, or fixed(token: ID)", tok.source)
	default:
		ft.Token = tok.bos
	}
}
