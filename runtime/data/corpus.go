package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/sinkrun/sinkrun/config"
)

// corpus is a whole token stream before the train/held-out split.
type corpus struct {
	name        string // short name for errors ("builtin corpus")
	desc        string // one-line description of the source
	tokens      stream
	text        bool // byte-tokenized text: one token per byte
	fingerprint string
}

func loadCorpus(cfg config.Data, baseDir string) (*corpus, error) {
	// Check the corpus, tokenizer and separator only: the result is cached
	// per corpus.
	if _, err := VocabSize(corpusData(cfg)); err != nil {
		return nil, err
	}
	var c *corpus
	var err error
	var tok *textTokenizer
	if k := cfg.Corpus.Kind; k == "builtin" || k == "files" || k == "jsonl" {
		if tok, err = loadTokenizer(cfg, baseDir); err != nil {
			return nil, err
		}
	}
	switch cfg.Corpus.Kind {
	case "builtin":
		c, err = loadBuiltin(cfg.Corpus, separatorID(cfg), tok)
	case "files", "jsonl":
		c, err = loadFiles(cfg.Corpus, separatorID(cfg), baseDir, tok)
	case "tokens":
		c, err = loadTokens(cfg.Corpus, separatorID(cfg), baseDir)
	case "bigram_backcopy":
		c, err = loadBigramBackcopy(cfg.Corpus)
	}
	if err != nil {
		return nil, err
	}
	c.fingerprint = fingerprint(c.tokens)
	return c, nil
}

// corpusData is the part of a data config that determines the corpus
// stream: the corpus, the tokenizer and the separator.
func corpusData(cfg config.Data) config.Data {
	return config.Data{Corpus: cfg.Corpus, Tokenizer: cfg.Tokenizer, Separator: cfg.Separator}
}

// separatorID is the token placed between the documents of a corpus, or -1
// for none: a newline byte (10) between text documents by default, nothing
// between token files, the eot token if one is set.
func separatorID(cfg config.Data) int {
	switch cfg.Separator.Kind {
	case "eot":
		return cfg.Separator.Token
	case "none":
		return -1
	}
	if cfg.Corpus.Kind == "tokens" || cfg.Corpus.Kind == "bigram_backcopy" {
		return -1
	}
	return '\n'
}

func fingerprint(s stream) string {
	h := sha256.New()
	if s.d != nil {
		buf := make([]byte, 0, 1<<16)
		for i, t := range s.d {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(t))
			if len(buf) == cap(buf) || i == len(s.d)-1 {
				h.Write(buf)
				buf = buf[:0]
			}
		}
	} else if s.w != nil {
		buf := make([]byte, 0, 1<<16)
		for i, t := range s.w {
			buf = binary.LittleEndian.AppendUint16(buf, t)
			if len(buf) == cap(buf) || i == len(s.w)-1 {
				h.Write(buf)
				buf = buf[:0]
			}
		}
	} else {
		h.Write(s.b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// goroot returns the Go toolchain's root and version: `go env GOROOT
// GOVERSION`, falling back to the running binary's own toolchain.
func goroot() (root, version string) {
	out, err := exec.Command("go", "env", "GOROOT", "GOVERSION").Output()
	if err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 && lines[0] != "" {
			return strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
		}
	}
	//lint:ignore SA1019 fallback when no go command is on PATH
	return runtime.GOROOT(), runtime.Version()
}

// BuiltinFiles lists the documents of the builtin corpus: the .go files of
// the Go toolchain's $GOROOT/src (src) in lexical walk order, skipping
// testdata and dot directories. version is the toolchain's: the files
// change with it.
func BuiltinFiles() (files []string, src, version string, err error) {
	root, version := goroot()
	if root == "" {
		return nil, "", "", fmt.Errorf("data: builtin corpus: cannot find GOROOT (is the go command on PATH?)")
	}
	src = filepath.Join(root, "src")
	err = filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == "testdata" || (path != src && strings.HasPrefix(e.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, "", "", fmt.Errorf("data: builtin corpus: %w", err)
	}
	if len(files) == 0 {
		return nil, "", "", fmt.Errorf("data: builtin corpus: no .go files under %s", src)
	}
	return files, src, version, nil
}

// loadBuiltin reads the .go files of $GOROOT/src in lexical walk order,
// skipping testdata directories, each a document, joined by the separator
// sep (see join) and cut at MaxBytes.
func loadBuiltin(c config.Corpus, sep int, tok *textTokenizer) (*corpus, error) {
	files, src, version, err := BuiltinFiles()
	if err != nil {
		return nil, err
	}
	toks, used, err := readDocs(files, readText, sep, c.MaxBytes, tok)
	if err != nil {
		return nil, fmt.Errorf("data: builtin corpus: %w", err)
	}
	return &corpus{
		name:   "builtin corpus",
		desc:   fmt.Sprintf("builtin: %s %s, %d of %d .go files (testdata skipped)%s%s", version, src, used, len(files), sepDesc(sep), tok.describe()),
		tokens: toks,
		text:   tok == nil,
	}, nil
}

// docReader reads the documents of one file of a text corpus.
type docReader func(path string) ([][]byte, error)

// readText reads a text file: one document.
func readText(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return [][]byte{b}, nil
}

// jsonlReader reads a JSON Lines file: one document per record, the record's
// string field `field`. Blank lines are skipped; a line that is not a JSON
// object, or whose field is missing or not a string, is an error.
func jsonlReader(field string) docReader {
	return func(path string) ([][]byte, error) {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var docs [][]byte
		for line := 1; len(raw) > 0; line++ {
			rec := raw
			if i := bytes.IndexByte(raw, '\n'); i >= 0 {
				rec, raw = raw[:i], raw[i+1:]
			} else {
				raw = nil
			}
			rec = bytes.TrimSpace(rec)
			if len(rec) == 0 {
				continue
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(rec, &obj); err != nil {
				return nil, fmt.Errorf("%s:%d: not a JSON object: %v", path, line, err)
			}
			v, ok := obj[field]
			if !ok {
				return nil, fmt.Errorf("%s:%d: the record has no %q field (set it with corpus jsonl(field: \"...\"))", path, line, field)
			}
			var text string
			if err := json.Unmarshal(v, &text); err != nil {
				return nil, fmt.Errorf("%s:%d: field %q is not a string", path, line, field)
			}
			docs = append(docs, []byte(text))
		}
		return docs, nil
	}
}

// checkTextFile rejects files a files corpus would misread as text.
func checkTextFile(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl":
		return fmt.Errorf("data: %s: a files corpus reads raw text; use corpus jsonl(paths: [...]) for JSON Lines", path)
	case ".bin":
		return fmt.Errorf("data: %s: a files corpus reads raw text; use corpus tokens(paths: [...], vocab: N) for pre-tokenized uint16 files", path)
	}
	return nil
}

// expandPaths returns the files matched by paths (relative to baseDir),
// sorted and de-duplicated. what names the corpus in errors.
func expandPaths(paths []string, baseDir, what string) ([]string, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("data: %s: no paths given", what)
	}
	seen := map[string]bool{}
	var files []string
	for _, pat := range paths {
		full := pat
		if !filepath.IsAbs(full) {
			full = filepath.Join(baseDir, pat)
		}
		matches, err := filepath.Glob(full)
		if err != nil {
			return nil, fmt.Errorf("data: %s: bad pattern %q: %w", what, pat, err)
		}
		n := 0
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil || st.IsDir() {
				continue
			}
			n++
			m = filepath.Clean(m)
			if !seen[m] {
				seen[m] = true
				files = append(files, m)
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("data: %s: %q (in %s) matches no file", what, pat, baseDir)
		}
	}
	sort.Strings(files)
	return files, nil
}

// loadFiles reads a files corpus (each file a document) or a jsonl corpus
// (each record a document): the files matched by c.Paths, sorted and
// de-duplicated, their documents joined by the separator sep and cut at
// MaxBytes.
func loadFiles(c config.Corpus, sep int, baseDir string, tok *textTokenizer) (*corpus, error) {
	what := c.Kind + " corpus"
	files, err := expandPaths(c.Paths, baseDir, what)
	if err != nil {
		return nil, err
	}
	read := readText
	if c.Kind == "jsonl" {
		field := c.Field
		if field == "" {
			field = "text"
		}
		read = jsonlReader(field)
	} else {
		for _, f := range files {
			if err := checkTextFile(f); err != nil {
				return nil, err
			}
		}
	}
	toks, used, err := readDocs(files, read, sep, c.MaxBytes, tok)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", what, err)
	}
	return &corpus{
		name:   what,
		desc:   fmt.Sprintf("%s: %d of %d files (%s)%s%s", c.Kind, used, len(files), strings.Join(c.Paths, ", "), sepDesc(sep), tok.describe()),
		tokens: toks,
		text:   tok == nil,
	}, nil
}

// loadTokens reads a tokens corpus: files of little-endian uint16 token ids
// (nanoGPT's train.bin / val.bin), each a document, joined by the separator
// sep and cut at MaxTokens. Every id must lie below c.Vocab.
func loadTokens(c config.Corpus, sep int, baseDir string) (*corpus, error) {
	files, err := expandPaths(c.Paths, baseDir, "tokens corpus")
	if err != nil {
		return nil, err
	}
	j := joiner{sep: sep, limit: c.MaxTokens, wide: true}
	used := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("data: tokens corpus: %w", err)
		}
		if len(raw)%2 != 0 {
			return nil, fmt.Errorf("data: tokens corpus: %s has %d bytes, not a whole number of uint16 tokens", f, len(raw))
		}
		toks := make([]uint16, len(raw)/2)
		for i := range toks {
			t := binary.LittleEndian.Uint16(raw[2*i:])
			if int(t) >= c.Vocab {
				return nil, fmt.Errorf("data: tokens corpus: %s: token %d (at index %d) is outside the vocabulary of %d; set corpus tokens(vocab: ...) to the tokenizer's vocabulary size", f, t, i, c.Vocab)
			}
			toks[i] = t
		}
		used++
		if j.addTokens(toks) {
			break
		}
	}
	return &corpus{
		name:   "tokens corpus",
		desc:   fmt.Sprintf("tokens: %d of %d files (%s), vocab %d%s", used, len(files), strings.Join(c.Paths, ", "), c.Vocab, sepDesc(sep)),
		tokens: j.stream(),
	}, nil
}

func sepDesc(sep int) string {
	switch sep {
	case -1:
		return ", no separator"
	case '\n':
		return ""
	}
	return fmt.Sprintf(", separator %d", sep)
}

// joiner builds a corpus stream from documents: the separator (when >= 0)
// goes before every document except while the stream is still empty (so
// leading empty documents add nothing), and the stream is cut at limit
// tokens (0: no limit). Tokens are bytes unless wide (uint16): a separator
// above 255, or token files.
type joiner struct {
	sep   int
	limit int
	wide  bool
	b     []byte
	w     []uint16
	// tok tokenizes text documents into d (nil: one token per byte); limit
	// then counts bytes of text, as textBytes does.
	tok       *textTokenizer
	d         []int32
	textBytes int
}

func (j *joiner) len() int {
	if j.tok != nil {
		return len(j.d)
	}
	if j.wide {
		return len(j.w)
	}
	return len(j.b)
}

// full cuts the stream at the limit and reports whether it is reached.
func (j *joiner) full() bool {
	if j.limit <= 0 || j.len() < j.limit {
		return false
	}
	if j.wide {
		j.w = j.w[:j.limit:j.limit]
	} else {
		j.b = j.b[:j.limit:j.limit]
	}
	return true
}

// addText appends a text document; it reports whether the limit is reached.
func (j *joiner) addText(doc []byte) bool {
	if j.tok != nil {
		return j.addTokenized(doc)
	}
	if j.wide {
		if j.sep >= 0 && len(j.w) > 0 {
			j.w = append(j.w, uint16(j.sep))
		}
		for _, c := range doc {
			j.w = append(j.w, uint16(c))
		}
	} else {
		if j.sep >= 0 && len(j.b) > 0 {
			j.b = append(j.b, byte(j.sep))
		}
		j.b = append(j.b, doc...)
	}
	return j.full()
}

// addTokens appends a document of token ids (wide joiners only).
func (j *joiner) addTokens(doc []uint16) bool {
	if j.sep >= 0 && len(j.w) > 0 {
		j.w = append(j.w, uint16(j.sep))
	}
	j.w = append(j.w, doc...)
	return j.full()
}

func (j *joiner) stream() stream {
	if j.tok != nil {
		return stream{d: j.d}
	}
	if j.wide {
		return stream{w: j.w}
	}
	return stream{b: j.b}
}

// readDocs reads files in parallel with read and joins their documents, in
// order, with the separator sep (see joiner), stopping once limit tokens
// (if > 0) are collected, or limit bytes of text with a tokenizer. A
// separator above 255 makes the stream uint16, a tokenizer int32. It returns
// the stream and the number of files that contributed to it.
func readDocs(files []string, read docReader, sep, limit int, tok *textTokenizer) (stream, int, error) {
	j := joiner{sep: sep, limit: limit, wide: sep > 255, tok: tok}
	// Size the buffer up front (sizes may change under us; append copes).
	size := 0
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			size += int(st.Size()) + 1
		}
		if limit > 0 && size >= limit {
			size = limit
			break
		}
	}
	if tok != nil {
		j.d = make([]int32, 0, size/3) // text is some 3 to 4 bytes a token
	} else if j.wide {
		j.w = make([]uint16, 0, size)
	} else {
		j.b = make([]byte, 0, size)
	}
	// Read in ordered chunks so a cap stops the reading early.
	workers := max(2, runtime.GOMAXPROCS(0))
	chunk := 8 * workers
	used := 0
	for lo := 0; lo < len(files); lo += chunk {
		hi := min(lo+chunk, len(files))
		docs := make([][][]byte, hi-lo)
		errs := make([]error, hi-lo)
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Go(func() {
				for i := range next {
					docs[i], errs[i] = read(files[lo+i])
				}
			})
		}
		for i := range docs {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, ds := range docs {
			if errs[i] != nil {
				return stream{}, 0, errs[i]
			}
			used++
			for _, d := range ds {
				if j.addText(d) {
					return j.stream(), used, nil
				}
			}
		}
	}
	return j.stream(), used, nil
}
