package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/unicode/norm"
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

// readJSON decodes a JSON file, naming it in errors.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return nil
}

// readMergesFile reads merges.txt: "left right" a line.
func readMergesFile(path string) ([]mergePair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
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
// Truncation, padding and the decoder are left out: they do not change the
// ids of a text (decoding is derived from the model and normalizer).
type tokenizerFile struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
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

// builder collects a tokenizer's parts while its files are read.
type builder struct{ Tokenizer }

func newBuilder(source string) *builder {
	b := &builder{}
	b.source = source
	b.vocab = map[string]int32{}
	b.added = map[int32]bool{}
	b.unk, b.bos = -1, -1
	return b
}

func (b *builder) setVocab(file string, vocab map[string]int) error {
	if len(vocab) == 0 {
		return fmt.Errorf("tokenizer: %s: the vocabulary is empty", file)
	}
	for tok, id := range vocab {
		if err := b.grow(file, id, tok); err != nil {
			return err
		}
		if b.tokens[id] != "" {
			return fmt.Errorf("tokenizer: %s: tokens %q and %q both have id %d", file, b.tokens[id], tok, id)
		}
		b.tokens[id] = tok
		b.vocab[tok] = int32(id)
	}
	return nil
}

func (b *builder) grow(file string, id int, tok string) error {
	if id < 0 || id >= 1<<24 {
		return fmt.Errorf("tokenizer: %s: token %q has id %d, outside 0..%d", file, tok, id, 1<<24-1)
	}
	if tok == "" {
		return fmt.Errorf("tokenizer: %s: id %d is an empty token", file, id)
	}
	for len(b.tokens) <= id {
		b.tokens = append(b.tokens, "")
	}
	return nil
}

// addToken records an added token; one that repeats a vocabulary entry
// must agree with it.
func (b *builder) addToken(file string, id int, content string) error {
	if err := b.grow(file, id, content); err != nil {
		return err
	}
	if old := b.tokens[id]; old != "" && old != content {
		return fmt.Errorf("tokenizer: %s: added token %q has id %d, which is %q in the vocabulary", file, content, id, old)
	}
	b.tokens[id] = content
	b.added[int32(id)] = true
	return nil
}

// setMerges resolves the merges to ids: both tokens and their
// concatenation must be in the vocabulary. A pair listed twice keeps its
// later rank, as GPT-2's and Hugging Face's loaders do.
func (b *builder) setMerges(file string, pairs []mergePair) error {
	b.merges = make(map[uint64]merge, len(pairs))
	for rank, p := range pairs {
		left, okL := b.vocab[p.left]
		right, okR := b.vocab[p.right]
		joined, okJ := b.vocab[p.left+p.right]
		switch {
		case !okL:
			return fmt.Errorf("tokenizer: %s: merge %q %q: %q is not in the vocabulary", p.at, p.left, p.right, p.left)
		case !okR:
			return fmt.Errorf("tokenizer: %s: merge %q %q: %q is not in the vocabulary", p.at, p.left, p.right, p.right)
		case !okJ:
			return fmt.Errorf("tokenizer: %s: merge %q %q: the merged token %q is not in the vocabulary", p.at, p.left, p.right, p.left+p.right)
		}
		b.merges[pairKey(left, right)] = merge{rank: int32(rank), id: joined}
	}
	return nil
}

// component is any normalizer, pre-tokenizer or post-processor of
// tokenizer.json; type says which fields mean something.
type component struct {
	Type          string            `json:"type"`
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	// Prepend
	Prepend string `json:"prepend"`
	// Replace, Split
	Pattern *struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`
	Content  string `json:"content"`
	Behavior string `json:"behavior"`
	Invert   bool   `json:"invert"`
	// ByteLevel, Metaspace
	AddPrefixSpace *bool `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`
	// Metaspace
	Replacement   string `json:"replacement"`
	PrependScheme string `json:"prepend_scheme"`
	Split         *bool  `json:"split"`
	// TemplateProcessing
	Single        []map[string]struct{ ID string } `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

func parseComponent(raw json.RawMessage) (*component, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (b *builder) parseNormalizer(raw json.RawMessage) error {
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return b.wrap("normalizer", err)
	}
	switch c.Type {
	case "Sequence":
		for _, n := range c.Normalizers {
			if err := b.parseNormalizer(n); err != nil {
				return err
			}
		}
	case "NFC":
		b.normalizers = append(b.normalizers, norm.NFC.String)
		b.describe = append(b.describe, "NFC")
	case "Prepend":
		p := c.Prepend
		b.normalizers = append(b.normalizers, func(s string) string {
			if s == "" {
				return s
			}
			return p + s
		})
		b.stripSpace = b.stripSpace || p == "▁"
		b.describe = append(b.describe, fmt.Sprintf("prepend %q", p))
	case "Replace":
		if c.Pattern == nil || c.Pattern.String == nil {
			return fmt.Errorf("tokenizer: %s: normalizer Replace of a regex is not supported (only of a string)", b.source)
		}
		from, to := *c.Pattern.String, c.Content
		b.normalizers = append(b.normalizers, func(s string) string { return strings.ReplaceAll(s, from, to) })
		b.describe = append(b.describe, fmt.Sprintf("replace %q with %q", from, to))
	default:
		return fmt.Errorf("tokenizer: %s: normalizer %q is not supported (supported: NFC, Prepend, Replace of a string, Sequence)", b.source, c.Type)
	}
	return nil
}

// parsePreTokenizer reads the pre_tokenizer; first says whether this one
// sees the whole text (Metaspace must).
func (b *builder) parsePreTokenizer(raw json.RawMessage, first bool) error {
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return b.wrap("pre_tokenizer", err)
	}
	switch c.Type {
	case "Sequence":
		for i, p := range c.Pretokenizers {
			if err := b.parsePreTokenizer(p, first && i == 0); err != nil {
				return err
			}
		}
	case "ByteLevel":
		b.kind = ByteLevel
		step := byteLevelStep{prefixSpace: c.AddPrefixSpace == nil || *c.AddPrefixSpace}
		if c.UseRegex == nil || *c.UseRegex {
			step.split = splitGPT2
			b.describe = append(b.describe, "GPT-2 split")
		}
		b.steps = append(b.steps, step)
	case "Split":
		if c.Pattern == nil || c.Pattern.Regex == nil {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Split on a string is not supported (only the GPT-2, LLaMA-3 and Qwen2 regexes)", b.source)
		}
		split, ok := splitters[*c.Pattern.Regex]
		if !ok {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Split pattern %q is not supported (only the GPT-2, LLaMA-3 and Qwen2 regexes)", b.source, *c.Pattern.Regex)
		}
		if c.Behavior != "Isolated" || c.Invert {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Split with behavior %q, invert %v is not supported (only Isolated, not inverted)", b.source, c.Behavior, c.Invert)
		}
		b.steps = append(b.steps, splitStep{split})
		b.describe = append(b.describe, patternNames[*c.Pattern.Regex]+" split")
	case "Metaspace":
		if !first {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Metaspace after another pre-tokenizer is not supported", b.source)
		}
		step := metaspaceStep{replacement: c.Replacement, split: c.Split == nil || *c.Split}
		switch c.PrependScheme {
		case "always", "first": // the same here: added tokens are not split out of the text
			step.prepend = true
		case "never":
		case "":
			step.prepend = c.AddPrefixSpace == nil || *c.AddPrefixSpace
		default:
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Metaspace prepend_scheme %q is unknown (always, first, never)", b.source, c.PrependScheme)
		}
		if c.Replacement == "" {
			return fmt.Errorf("tokenizer: %s: pre_tokenizer Metaspace has no replacement", b.source)
		}
		b.stripSpace = b.stripSpace || (step.prepend && c.Replacement == "▁")
		b.steps = append(b.steps, step)
		b.describe = append(b.describe, fmt.Sprintf("Metaspace %q (prepend %v, split %v)", c.Replacement, step.prepend, step.split))
	default:
		return fmt.Errorf("tokenizer: %s: pre_tokenizer %q is not supported (supported: ByteLevel, Split with the GPT-2, LLaMA-3 or Qwen2 regex, Metaspace, Sequence)", b.source, c.Type)
	}
	return nil
}

// patternNames names the supported split patterns.
var patternNames = map[string]string{GPT2Pattern: "GPT-2", Llama3Pattern: "LLaMA-3", Qwen2Pattern: "Qwen2"}

// templateBOS is the token a post-processor puts before the text.
type templateBOS struct {
	token string
	id    int
	ok    bool
}

func (b *builder) parsePostProcessor(raw json.RawMessage) (templateBOS, error) {
	c, err := parseComponent(raw)
	if err != nil || c == nil {
		return templateBOS{}, b.wrap("post_processor", err)
	}
	switch c.Type {
	case "ByteLevel": // trims offsets only
		return templateBOS{}, nil
	case "Sequence":
		var bos templateBOS
		for _, p := range c.Processors {
			t, err := b.parsePostProcessor(p)
			if err != nil {
				return bos, err
			}
			if t.ok {
				if bos.ok {
					return bos, fmt.Errorf("tokenizer: %s: post_processor adds two tokens before the text", b.source)
				}
				bos = t
			}
		}
		return bos, nil
	case "TemplateProcessing":
		var bos templateBOS
		seenText := false
		for _, item := range c.Single {
			if _, ok := item["Sequence"]; ok {
				seenText = true
				continue
			}
			sp, ok := item["SpecialToken"]
			switch {
			case !ok:
				return bos, fmt.Errorf("tokenizer: %s: post_processor template item %v is not understood", b.source, item)
			case seenText:
				return bos, fmt.Errorf("tokenizer: %s: post_processor adds %q after the text, which is not supported (only a token before it)", b.source, sp.ID)
			case bos.ok:
				return bos, fmt.Errorf("tokenizer: %s: post_processor adds two tokens before the text, which is not supported", b.source)
			}
			ids := c.SpecialTokens[sp.ID].IDs
			if len(ids) != 1 {
				return bos, fmt.Errorf("tokenizer: %s: post_processor special token %q has ids %v, want one", b.source, sp.ID, ids)
			}
			bos = templateBOS{token: sp.ID, id: ids[0], ok: true}
		}
		return bos, nil
	}
	return templateBOS{}, fmt.Errorf("tokenizer: %s: post_processor %q is not supported (supported: TemplateProcessing, ByteLevel, Sequence)", b.source, c.Type)
}

func (b *builder) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("tokenizer: %s: %s: %w", b.source, what, err)
}

// config is what tokenizer_config.json and special_tokens_map.json say
// about the BOS token and the leading space.
type config struct {
	file           string
	addBOS, addEOS *bool
	bosSet         bool    // bos_token is given (possibly null)
	bos            *string // nil: null
	addPrefixSpace *bool
}

// readConfig reads dir's tokenizer_config.json and special_tokens_map.json
// (either may be missing).
func readConfig(dir string) (config, error) {
	var cfg config
	for _, name := range []string{configJSON, specialTokensMap} {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return cfg, fmt.Errorf("tokenizer: %w", err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return cfg, fmt.Errorf("tokenizer: %s: %w", p, err)
		}
		if cfg.file == "" {
			cfg.file = p
		}
		for key, dst := range map[string]**bool{"add_bos_token": &cfg.addBOS, "add_eos_token": &cfg.addEOS, "add_prefix_space": &cfg.addPrefixSpace} {
			if v, ok := raw[key]; ok && *dst == nil {
				if err := json.Unmarshal(v, dst); err != nil {
					return cfg, fmt.Errorf("tokenizer: %s: %s: %w", p, key, err)
				}
			}
		}
		if v, ok := raw["bos_token"]; ok && !cfg.bosSet {
			tok, err := tokenContent(v)
			if err != nil {
				return cfg, fmt.Errorf("tokenizer: %s: bos_token: %w", p, err)
			}
			cfg.bosSet, cfg.bos = true, tok
		}
	}
	return cfg, nil
}

// tokenContent reads a token setting: "<s>", {"content": "<s>", ...} or null.
func tokenContent(raw json.RawMessage) (*string, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return &s, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Content == nil {
		return nil, fmt.Errorf("%s is neither a token string nor an object with content", raw)
	}
	return obj.Content, nil
}

// gpt2EndOfText is GPT-2's only special token, its BOS and EOS alike (and
// GPT-NeoX's, and Qwen2's end of text); the BOS of a byte-level tokenizer
// whose files name none.
const gpt2EndOfText = "<|endoftext|>"

// finish checks the parts against each other and decides the BOS.
func (b *builder) finish(cfg config, tmpl templateBOS) (*Tokenizer, error) {
	switch b.kind {
	case ByteLevel:
		if b.byteFallback {
			return nil, fmt.Errorf("tokenizer: %s: byte_fallback with a ByteLevel pre-tokenizer is not supported", b.source)
		}
		for c := range 256 {
			id, ok := b.vocab[string(byteRune[c])]
			if !ok {
				return nil, fmt.Errorf("tokenizer: %s: byte-level vocabulary lacks %q, the symbol of byte 0x%02X", b.source, string(byteRune[c]), c)
			}
			b.byteIDs[c] = id
		}
		if cfg.addPrefixSpace != nil {
			for i, s := range b.steps {
				if bl, ok := s.(byteLevelStep); ok {
					bl.prefixSpace = *cfg.addPrefixSpace
					b.steps[i] = bl
				}
			}
		}
	case SentencePiece:
		if cfg.addPrefixSpace != nil {
			return nil, fmt.Errorf("tokenizer: %s: add_prefix_space for a SentencePiece-style tokenizer is not supported", cfg.file)
		}
		for c := range 256 {
			id, ok := b.vocab[fallbackToken(byte(c))]
			switch {
			case ok:
				b.byteIDs[c] = id
			case b.byteFallback:
				return nil, fmt.Errorf("tokenizer: %s: byte_fallback is on but the vocabulary lacks %s", b.source, fallbackToken(byte(c)))
			default:
				b.byteIDs[c] = -1
			}
		}
		if !b.byteFallback && b.unk < 0 {
			return nil, fmt.Errorf("tokenizer: %s: neither byte_fallback nor unk_token: characters outside the vocabulary could not be encoded", b.source)
		}
	}
	if cfg.addEOS != nil && *cfg.addEOS {
		return nil, fmt.Errorf("tokenizer: %s: add_eos_token is not supported", cfg.file)
	}
	if err := b.decideBOS(cfg, tmpl); err != nil {
		return nil, err
	}
	return &b.Tokenizer, nil
}

// decideBOS follows transformers: tokenizer_config.json's add_bos_token and
// bos_token when given, else the post-processor's template; without either,
// a byte-level tokenizer's BOS is <|endoftext|> (GPT-2's convention), not
// added.
func (b *builder) decideBOS(cfg config, tmpl templateBOS) error {
	name, named := "", false
	switch {
	case cfg.bosSet && cfg.bos != nil:
		name, named = *cfg.bos, true
	case cfg.bosSet:
		// bos_token: null, as Qwen2 says: no BOS.
	case tmpl.ok:
		name, named = tmpl.token, true
	default:
		if _, ok := b.vocab[gpt2EndOfText]; ok && b.kind == ByteLevel {
			name, named = gpt2EndOfText, true
		}
	}
	if named {
		id, ok := b.id(name)
		if !ok {
			return fmt.Errorf("tokenizer: %s: the BOS token %q is not in the vocabulary", b.source, name)
		}
		b.bos = id
	}
	switch {
	case cfg.addBOS != nil:
		b.addsBOS = *cfg.addBOS
	default:
		b.addsBOS = tmpl.ok
	}
	if tmpl.ok && b.bos >= 0 && b.addsBOS && cfg.addBOS == nil && int(b.bos) != tmpl.id {
		return fmt.Errorf("tokenizer: %s: the post-processor adds id %d but the BOS token %q is id %d", b.source, tmpl.id, b.tokens[b.bos], b.bos)
	}
	if b.addsBOS && b.bos < 0 {
		return fmt.Errorf("tokenizer: %s: add_bos_token is true but there is no BOS token", cfg.file)
	}
	return nil
}

// id finds a token among the vocabulary and the added tokens.
func (b *builder) id(tok string) (int32, bool) {
	if id, ok := b.vocab[tok]; ok {
		return id, true
	}
	for id := range b.added {
		if b.tokens[id] == tok {
			return id, true
		}
	}
	return -1, false
}
