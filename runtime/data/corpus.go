package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
	// Check the corpus and tokenizer only: the result is cached per corpus.
	if _, err := VocabSize(config.Data{Corpus: cfg.Corpus, Tokenizer: cfg.Tokenizer}); err != nil {
		return nil, err
	}
	var c *corpus
	var err error
	switch cfg.Corpus.Kind {
	case "builtin":
		c, err = loadBuiltin(cfg.Corpus)
	case "files":
		c, err = loadFiles(cfg.Corpus, baseDir)
	case "bigram_backcopy":
		c, err = loadBigramBackcopy(cfg.Corpus)
	}
	if err != nil {
		return nil, err
	}
	c.fingerprint = fingerprint(c.tokens)
	return c, nil
}

func fingerprint(s stream) string {
	h := sha256.New()
	if s.w != nil {
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

// loadBuiltin reads the .go files of $GOROOT/src in lexical walk order,
// skipping testdata directories, joined by "\n" and cut at MaxBytes.
func loadBuiltin(c config.Corpus) (*corpus, error) {
	root, version := goroot()
	if root == "" {
		return nil, fmt.Errorf("data: builtin corpus: cannot find GOROOT (is the go command on PATH?)")
	}
	src := filepath.Join(root, "src")
	var files []string
	err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
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
		return nil, fmt.Errorf("data: builtin corpus: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("data: builtin corpus: no .go files under %s", src)
	}
	text, used, err := readTexts(files, c.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("data: builtin corpus: %w", err)
	}
	return &corpus{
		name:   "builtin corpus",
		desc:   fmt.Sprintf("builtin: %s %s, %d of %d .go files (testdata skipped)", version, src, used, len(files)),
		tokens: stream{b: text},
		text:   true,
	}, nil
}

// textReader reads one file of a files corpus as text. Readers are chosen by
// file extension (see readerFor); a new format (JSONL `text` fields, nanoGPT
// uint16 .bin token files) is a new entry there.
type textReader func(path string) ([]byte, error)

func readerFor(path string) (textReader, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl":
		return nil, fmt.Errorf("data: %s: JSONL corpora are not supported yet", path)
	case ".bin":
		return nil, fmt.Errorf("data: %s: pre-tokenized .bin corpora are not supported yet", path)
	}
	return os.ReadFile, nil
}

// loadFiles reads the files matched by c.Paths (relative to baseDir),
// sorted and de-duplicated, joined by "\n" and cut at MaxBytes.
func loadFiles(c config.Corpus, baseDir string) (*corpus, error) {
	if len(c.Paths) == 0 {
		return nil, fmt.Errorf("data: files corpus: no paths given")
	}
	seen := map[string]bool{}
	var files []string
	for _, pat := range c.Paths {
		full := pat
		if !filepath.IsAbs(full) {
			full = filepath.Join(baseDir, pat)
		}
		matches, err := filepath.Glob(full)
		if err != nil {
			return nil, fmt.Errorf("data: files corpus: bad pattern %q: %w", pat, err)
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
			return nil, fmt.Errorf("data: files corpus: %q (in %s) matches no file", pat, baseDir)
		}
	}
	sort.Strings(files)
	for _, f := range files {
		if _, err := readerFor(f); err != nil {
			return nil, err
		}
	}
	text, used, err := readTexts(files, c.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("data: files corpus: %w", err)
	}
	return &corpus{
		name:   "files corpus",
		desc:   fmt.Sprintf("files: %d of %d files (%s)", used, len(files), strings.Join(c.Paths, ", ")),
		tokens: stream{b: text},
		text:   true,
	}, nil
}

// readTexts reads files in parallel and joins their texts with "\n", in
// order, stopping once maxBytes (if > 0) are collected. It returns the text
// and the number of files that contributed to it.
func readTexts(files []string, maxBytes int) ([]byte, int, error) {
	// Read in ordered chunks so a cap stops the reading early.
	workers := max(2, runtime.GOMAXPROCS(0))
	chunk := 8 * workers
	var out bytes.Buffer
	used := 0
	// Size the buffer up front (sizes may change under us; Buffer copes).
	size := 0
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			size += int(st.Size()) + 1
		}
		if maxBytes > 0 && size >= maxBytes {
			size = maxBytes
			break
		}
	}
	out.Grow(size)
	for lo := 0; lo < len(files); lo += chunk {
		hi := min(lo+chunk, len(files))
		texts := make([][]byte, hi-lo)
		errs := make([]error, hi-lo)
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Go(func() {
				for i := range next {
					r, err := readerFor(files[lo+i])
					if err == nil {
						texts[i], err = r(files[lo+i])
					}
					errs[i] = err
				}
			})
		}
		for i := range texts {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, t := range texts {
			if errs[i] != nil {
				return nil, 0, errs[i]
			}
			if out.Len() > 0 {
				out.WriteByte('\n')
			}
			out.Write(t)
			used++
			if maxBytes > 0 && out.Len() >= maxBytes {
				return out.Bytes()[:maxBytes:maxBytes], used, nil
			}
		}
	}
	return out.Bytes(), used, nil
}
