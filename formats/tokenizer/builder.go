package tokenizer

import "fmt"

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

// matchAdded makes an added token that is not special be found in the
// text: in the raw text, or in the normalized text when normalized.
func (b *builder) matchAdded(content string, id int32, normalized bool) {
	m := &b.rawAdded
	if normalized {
		m = &b.normalizedAdded
	}
	if *m == nil {
		*m = &addedMatcher{}
	}
	(*m).add(content, id)
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
		// LlamaTokenizerFast rebuilds the tokenizer from its SentencePiece
		// model when add_prefix_space disagrees with tokenizer.json.
		if p := cfg.addPrefixSpace; p != nil && *p != b.stripSpace {
			return nil, fmt.Errorf("tokenizer: %s: add_prefix_space %v, but %s does the opposite; not supported", cfg.file, *p, b.source)
		}
		// Hugging Face would put the "▁" of Prepend or Metaspace before each
		// stretch of text between such tokens, and match them normalized.
		for _, m := range []*addedMatcher{b.rawAdded, b.normalizedAdded} {
			if m != nil {
				return nil, fmt.Errorf("tokenizer: %s: added token %q is not special, which a SentencePiece-style tokenizer does not support", b.source, m.contents[0])
			}
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
	// Normalized added tokens are looked for as the normalizer writes them.
	if m := b.normalizedAdded; m != nil {
		for k, c := range m.contents {
			for _, n := range b.normalizers {
				c = n(c)
			}
			m.contents[k] = c
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
