package tokenizer

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files of a Hugging Face tokenizer directory.
const (
	TokenizerJSON    = "tokenizer.json"
	VocabJSON        = "vocab.json"
	MergesTXT        = "merges.txt"
	configJSON       = "tokenizer_config.json"
	specialTokensMap = "special_tokens_map.json"
	addedTokensJSON  = "added_tokens.json"
)

// Load reads a tokenizer from path: a directory holding tokenizer.json, or
// else vocab.json and merges.txt; or a tokenizer.json file itself.
// tokenizer_config.json and special_tokens_map.json beside it, when present,
// give the BOS token and whether it is added.
func Load(path string) (*Tokenizer, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("tokenizer: %s does not exist", path)
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if !info.IsDir() {
		return loadTokenizerJSON(path)
	}
	if p := filepath.Join(path, TokenizerJSON); exists(p) {
		return loadTokenizerJSON(p)
	}
	vocab, merges := filepath.Join(path, VocabJSON), filepath.Join(path, MergesTXT)
	if exists(vocab) && exists(merges) {
		return LoadVocabMerges(vocab, merges)
	}
	return nil, fmt.Errorf("tokenizer: %s holds neither %s nor %s and %s", path, TokenizerJSON, VocabJSON, MergesTXT)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// LoadVocabMerges reads a GPT-2-style byte-level BPE: a vocabulary file
// (JSON, token -> id; GPT-2's vocab.json or encoder.json) and a merges file
// (one "left right" pair a line, after an optional "#version" line; GPT-2's
// merges.txt or vocab.bpe). Text is split with GPT-2's pattern, as the slow
// GPT2Tokenizer of transformers does.
func LoadVocabMerges(vocabPath, mergesPath string) (*Tokenizer, error) {
	b := newBuilder(vocabPath + " + " + filepath.Base(mergesPath))
	b.kind = ByteLevel
	var vocab map[string]int
	if err := readJSON(vocabPath, &vocab); err != nil {
		return nil, err
	}
	if err := b.setVocab(vocabPath, vocab); err != nil {
		return nil, err
	}
	dir := filepath.Dir(vocabPath)
	var added map[string]int
	if p := filepath.Join(dir, addedTokensJSON); exists(p) {
		if err := readJSON(p, &added); err != nil {
			return nil, err
		}
		for tok, id := range added {
			if err := b.addToken(p, id, tok); err != nil {
				return nil, err
			}
			b.matchAdded(tok, int32(id), false)
		}
	}
	pairs, err := readMergesFile(mergesPath)
	if err != nil {
		return nil, err
	}
	if err := b.setMerges(mergesPath, pairs); err != nil {
		return nil, err
	}
	step := byteLevelStep{split: splitGPT2}
	b.steps = []preStep{step}
	b.describe = append(b.describe, "GPT-2 split")
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	return b.finish(cfg, templateBOS{})
}

// maxFileSize bounds the tokenizer files read (the largest published
// tokenizer.json files are tens of MB): a path to a device or to
// /proc/kcore is refused rather than read.
const maxFileSize = 1 << 30

// readFile reads a regular file of at most maxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return data, nil
}

// openFile opens a regular file of at most maxFileSize bytes.
func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	info, err := f.Stat()
	switch {
	case err != nil:
		err = fmt.Errorf("tokenizer: %w", err)
	case !info.Mode().IsRegular():
		err = fmt.Errorf("tokenizer: %s is not a regular file", path)
	case info.Size() > maxFileSize:
		err = fmt.Errorf("tokenizer: %s has %d bytes, more than a tokenizer file's %d", path, info.Size(), maxFileSize)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// readJSON decodes a JSON file, naming it in errors.
func readJSON(path string, v any) error {
	data, err := readFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return nil
}

// readMergesFile reads merges.txt: "left right" a line.
func readMergesFile(path string) ([]mergePair, error) {
	f, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pairs []mergePair
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" || (line == 1 && strings.HasPrefix(text, "#version")) {
			continue
		}
		left, right, ok := strings.Cut(text, " ")
		if !ok || left == "" || right == "" || strings.Contains(right, " ") {
			return nil, fmt.Errorf("tokenizer: %s:%d: %q is not a merge (two tokens separated by one space)", path, line, text)
		}
		pairs = append(pairs, mergePair{left, right, fmt.Sprintf("%s:%d", path, line)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return pairs, nil
}

// tokenizerFile is the part of tokenizer.json that tokenization depends on.
// Truncation and padding are left out (sinkrun cuts and batches sequences
// itself), and so is the decoder (decoding follows from the model and the
// normalizer).
type tokenizerFile struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		Special    bool   `json:"special"`
		Normalized bool   `json:"normalized"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         struct {
		Type                    string          `json:"type"`
		Dropout                 *float64        `json:"dropout"`
		UnkToken                *string         `json:"unk_token"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
		FuseUnk                 bool            `json:"fuse_unk"`
		ByteFallback            bool            `json:"byte_fallback"`
		IgnoreMerges            bool            `json:"ignore_merges"`
		Vocab                   map[string]int  `json:"vocab"`
		Merges                  json.RawMessage `json:"merges"`
	} `json:"model"`
}

func loadTokenizerJSON(path string) (*Tokenizer, error) {
	var f tokenizerFile
	if err := readJSON(path, &f); err != nil {
		return nil, err
	}
	m := &f.Model
	switch {
	case m.Type == "" && m.Vocab == nil:
		return nil, fmt.Errorf("tokenizer: %s: no model (model.type and model.vocab are missing)", path)
	case m.Type != "BPE":
		return nil, fmt.Errorf("tokenizer: %s: model type %q is not supported (only BPE: byte-level or SentencePiece-style)", path, m.Type)
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, fmt.Errorf("tokenizer: %s: BPE dropout %g is not supported (it makes tokenization random)", path, *m.Dropout)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return nil, fmt.Errorf("tokenizer: %s: continuing_subword_prefix %q is not supported", path, *m.ContinuingSubwordPrefix)
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, fmt.Errorf("tokenizer: %s: end_of_word_suffix %q is not supported", path, *m.EndOfWordSuffix)
	}
	b := newBuilder(path)
	if err := b.setVocab(path, m.Vocab); err != nil {
		return nil, err
	}
	for _, a := range f.AddedTokens {
		if err := b.addToken(path+": added_tokens", a.ID, a.Content); err != nil {
			return nil, err
		}
		if a.Special {
			continue
		}
		if a.SingleWord || a.LStrip || a.RStrip {
			return nil, fmt.Errorf("tokenizer: %s: added token %q: single_word, lstrip and rstrip are not supported", path, a.Content)
		}
		b.matchAdded(a.Content, int32(a.ID), a.Normalized)
	}
	if err := b.parseNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if err := b.parsePreTokenizer(f.PreTokenizer, true); err != nil {
		return nil, err
	}
	if b.kind == 0 {
		b.kind = SentencePiece
	}
	b.byteFallback, b.fuseUnk, b.ignoreMerges = m.ByteFallback, m.FuseUnk, m.IgnoreMerges
	if m.UnkToken != nil {
		id, ok := b.vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: model.unk_token %q is not in the vocabulary", path, *m.UnkToken)
		}
		b.unk = id
	}
	pairs, err := parseMerges(path, m.Merges)
	if err != nil {
		return nil, err
	}
	if err := b.setMerges(path, pairs); err != nil {
		return nil, err
	}
	tmpl, err := b.parsePostProcessor(f.PostProcessor)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	return b.finish(cfg, tmpl)
}

// mergePair is one merges entry and where it was read, for messages.
type mergePair struct{ left, right, at string }

// parseMerges reads model.merges: "left right" strings (tokenizers before
// 0.20) or ["left", "right"] pairs.
func parseMerges(path string, raw json.RawMessage) ([]mergePair, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: model.merges is not a list: %w", path, err)
	}
	pairs := make([]mergePair, len(items))
	for i, item := range items {
		at := fmt.Sprintf("%s: model.merges[%d]", path, i)
		var s string
		var two []string
		switch {
		case json.Unmarshal(item, &s) == nil:
			left, right, ok := strings.Cut(s, " ")
			if !ok || left == "" || right == "" || strings.Contains(right, " ") {
				return nil, fmt.Errorf("tokenizer: %s: %q is not a merge (two tokens separated by one space)", at, s)
			}
			pairs[i] = mergePair{left, right, at}
		case json.Unmarshal(item, &two) == nil && len(two) == 2:
			pairs[i] = mergePair{two[0], two[1], at}
		default:
			return nil, fmt.Errorf("tokenizer: %s: %s is not a merge (a \"left right\" string or a pair)", at, item)
		}
	}
	return pairs, nil
}
