// Package tokenizer encodes text with a pretrained checkpoint's own
// tokenizer, read from its Hugging Face files: byte-level BPE (GPT-2,
// GPT-NeoX / Pythia, OPT, LLaMA-3, Qwen2) from tokenizer.json or
// vocab.json + merges.txt, and the SentencePiece-style BPE of LLaMA-2 and
// Mistral tokenizer.json files (characters, merges, <0xNN> byte fallback),
// each with its family's BOS behaviour. It is pure Go and reads every
// setting it honours; a setting it cannot honour is refused with the file
// and the setting named, never ignored.
//
// Text is text: a special token written in the input, "<|endoftext|>", is
// encoded as its characters, as tiktoken's encode_ordinary does, not as the
// special token (Hugging Face would match it). Added tokens that are not
// special (GPT-NeoX's runs of spaces) are matched as Hugging Face does.
package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind is how a tokenizer turns a piece of text into its first symbols.
type Kind int

const (
	// ByteLevel BPE starts from the piece's bytes, each a vocabulary entry.
	ByteLevel Kind = iota + 1
	// SentencePiece-style BPE starts from the piece's characters, spaces
	// shown as "▁"; a character outside the vocabulary falls back to its
	// UTF-8 bytes, the <0xNN> tokens (or to the unknown token).
	SentencePiece
)

func (k Kind) String() string {
	switch k {
	case ByteLevel:
		return "byte-level BPE"
	case SentencePiece:
		return "SentencePiece-style BPE"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// BOSPolicy says whether Encode puts the BOS token first.
type BOSPolicy int

const (
	// FamilyBOS does what the checkpoint's tokenizer does by default
	// (Hugging Face's tokenizer(text)): LLaMA-2, Mistral, LLaMA-3 and OPT
	// add their BOS, GPT-2, GPT-NeoX and Qwen2 do not.
	FamilyBOS BOSPolicy = iota
	// WithBOS always adds it; an error for a tokenizer without a BOS.
	WithBOS
	// WithoutBOS never adds it.
	WithoutBOS
)

// Tokenizer encodes text as token ids. It is safe for concurrent use.
type Tokenizer struct {
	source string // the file(s) read, for messages
	kind   Kind

	tokens []string         // by id; "" where no token has the id
	vocab  map[string]int32 // the model's vocabulary (added tokens apart)
	added  map[int32]bool   // added tokens: decoded as written
	merges map[uint64]merge

	// Added tokens that are not special, found in the text before and after
	// normalization (nil: none).
	rawAdded, normalizedAdded *addedMatcher

	normalizers []normalizer
	steps       []preStep
	describe    []string // what normalizes and splits, for Describe

	byteIDs      [256]int32 // ByteLevel: each byte's symbol; SentencePiece: <0xNN>, -1 if absent
	byteFallback bool
	unk          int32 // -1: none
	fuseUnk      bool
	ignoreMerges bool // a piece that is a whole vocabulary entry is that entry
	stripSpace   bool // decoding: the text was given a leading "▁"

	bos     int32 // -1: none
	addsBOS bool

	cache wordCache
}

// Source is the file (or files) the tokenizer was read from.
func (t *Tokenizer) Source() string { return t.source }

// Kind is the tokenizer's BPE kind.
func (t *Tokenizer) Kind() Kind { return t.kind }

// Size is the number of token ids: one more than the largest id of the
// vocabulary and the added tokens.
func (t *Tokenizer) Size() int { return len(t.tokens) }

// BOS returns the beginning-of-sequence token, if the tokenizer has one.
func (t *Tokenizer) BOS() (id int, ok bool) { return int(t.bos), t.bos >= 0 }

// AddsBOS reports whether the family puts its BOS first by default.
func (t *Tokenizer) AddsBOS() bool { return t.addsBOS }

// Token returns the vocabulary entry of id as the files write it ("Ġthe",
// "▁the", "<0x0A>"), or "" for an unused id.
func (t *Tokenizer) Token(id int) string {
	if id < 0 || id >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// Describe says in one line what the tokenizer is, e.g. for `sinkrun plan`.
func (t *Tokenizer) Describe() string {
	s := fmt.Sprintf("%s, %d tokens", t.kind, t.Size())
	if len(t.describe) > 0 {
		s += ", " + strings.Join(t.describe, ", ")
	}
	if id, ok := t.BOS(); ok {
		verb := "not added by default"
		if t.addsBOS {
			verb = "added by default"
		}
		s += fmt.Sprintf(", BOS %q = %d (%s)", t.tokens[id], id, verb)
	} else {
		s += ", no BOS"
	}
	return s
}

// CheckVocab reports an error when the tokenizer's ids do not fit a model's
// vocabulary of modelVocab rows. A model may have more rows than its
// tokenizer has tokens (vocabularies are often padded to a multiple of 64
// or 128), never fewer.
func (t *Tokenizer) CheckVocab(modelVocab int) error {
	if t.Size() > modelVocab {
		return fmt.Errorf("tokenizer %s: its %d token ids (0..%d) do not fit the model's vocabulary of %d; is it the checkpoint's tokenizer?",
			t.source, t.Size(), t.Size()-1, modelVocab)
	}
	return nil
}

// Encode tokenizes text, putting the BOS first as bos says.
func (t *Tokenizer) Encode(text string, bos BOSPolicy) ([]int, error) {
	ids := make([]int, 0, len(text)/3+2)
	add := t.addsBOS
	switch bos {
	case WithBOS:
		if t.bos < 0 {
			return nil, fmt.Errorf("tokenizer %s has no BOS token", t.source)
		}
		add = true
	case WithoutBOS:
		add = false
	}
	if add {
		ids = append(ids, int(t.bos))
	}
	return t.AppendText(ids, text), nil
}

// AppendText appends the tokens of text to dst, without a BOS: what a
// corpus becomes.
func (t *Tokenizer) AppendText(dst []int, text string) []int {
	token := func(id int32) { dst = append(dst, int(id)) }
	piece := func(p string) {
		for _, id := range t.encodePiece(p) {
			dst = append(dst, int(id))
		}
	}
	// As Hugging Face does: added tokens matched on the raw text, then each
	// stretch between them normalized, then added tokens matched on the
	// normalized text, then what is left pre-tokenized and merged.
	t.rawAdded.split(text, func(segment string) {
		for _, n := range t.normalizers {
			segment = n(segment)
		}
		t.normalizedAdded.split(segment, func(s string) { t.pretokenize(s, t.steps, piece) }, token)
	}, token)
	return dst
}

// pretokenize passes text through the pre-tokenization steps and emits the
// pieces that come out of the last one.
func (t *Tokenizer) pretokenize(text string, steps []preStep, emit func(string)) {
	if len(steps) == 0 {
		if text != "" {
			emit(text)
		}
		return
	}
	steps[0].apply(text, func(piece string) { t.pretokenize(piece, steps[1:], emit) })
}

// encodePiece returns the tokens of one pre-tokenized piece; the result is
// shared with the cache and must not be modified.
func (t *Tokenizer) encodePiece(piece string) []int32 {
	if ids, ok := t.cache.get(piece); ok {
		return ids
	}
	var syms []int32
	if t.kind == ByteLevel {
		syms = t.byteSymbols(piece)
	} else {
		syms = t.charSymbols(piece)
	}
	if t.ignoreMerges && len(syms) > 1 {
		if id, ok := t.vocab[t.pieceToken(piece)]; ok {
			syms = append(syms[:0], id)
		}
	}
	ids := mergeAll(syms, t.merges)
	ids = ids[:len(ids):len(ids)]
	t.cache.put(piece, ids)
	return ids
}

func (t *Tokenizer) byteSymbols(piece string) []int32 {
	syms := make([]int32, len(piece))
	for i := range len(piece) {
		syms[i] = t.byteIDs[piece[i]]
	}
	return syms
}

// charSymbols maps each character to its vocabulary entry, else to its
// bytes' <0xNN> tokens (byte fallback), else to the unknown token, one for
// a run of unknown characters with fuse_unk (as Hugging Face's BPE does).
func (t *Tokenizer) charSymbols(piece string) []int32 {
	syms := make([]int32, 0, len(piece))
	lastUnk := false
	for i := 0; i < len(piece); {
		_, w := utf8.DecodeRuneInString(piece[i:])
		ch := piece[i : i+w]
		i += w
		if id, ok := t.vocab[ch]; ok {
			syms = append(syms, id)
			lastUnk = false
			continue
		}
		if t.byteFallback {
			for j := range len(ch) {
				syms = append(syms, t.byteIDs[ch[j]])
			}
			lastUnk = false
			continue
		}
		if !(lastUnk && t.fuseUnk) {
			syms = append(syms, t.unk)
		}
		lastUnk = true
	}
	return syms
}

// pieceToken is the vocabulary spelling of a piece.
func (t *Tokenizer) pieceToken(piece string) string {
	if t.kind != ByteLevel {
		return piece
	}
	var b strings.Builder
	for i := range len(piece) {
		b.WriteRune(byteRune[piece[i]])
	}
	return b.String()
}

// byteRune is GPT-2's byte-to-rune table (immutable).
var byteRune = byteRunes()

// Decode turns token ids back into text. Bytes that do not form valid UTF-8
// (a character cut between tokens) are kept as they are.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	var b strings.Builder
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) || t.tokens[id] == "" {
			return "", fmt.Errorf("tokenizer %s: token id %d is not in its vocabulary of %d", t.source, id, len(t.tokens))
		}
		tok := t.tokens[id]
		switch {
		case t.added[int32(id)]:
			b.WriteString(tok)
		case t.kind == ByteLevel:
			for _, r := range tok {
				if c, ok := runeByte(r); ok {
					b.WriteByte(c)
				} else {
					b.WriteRune(r)
				}
			}
		default:
			if c, ok := fallbackByte(tok); ok && t.byteFallback {
				b.WriteByte(c)
			} else {
				b.WriteString(strings.ReplaceAll(tok, "▁", " "))
			}
		}
	}
	s := b.String()
	if t.stripSpace {
		s = strings.TrimPrefix(s, " ")
	}
	return s, nil
}

// runeByte inverts byteRune.
func runeByte(r rune) (byte, bool) {
	if r < 0 || int(r) >= len(byteOfRune) || byteOfRune[r] < 0 {
		return 0, false
	}
	return byte(byteOfRune[r]), true
}

// byteOfRune is byteRune's inverse: the byte of each rune, -1 for runes
// that stand for no byte (immutable).
var byteOfRune = func() (inv [256 + 68]int16) {
	for i := range inv {
		inv[i] = -1
	}
	for b, r := range byteRune {
		inv[r] = int16(b)
	}
	return inv
}()

// fallbackByte parses a byte-fallback token, "<0x0A>".
func fallbackByte(tok string) (byte, bool) {
	if len(tok) != 6 || !strings.HasPrefix(tok, "<0x") || tok[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range tok[3:5] {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | byte(c-'0')
		case 'A' <= c && c <= 'F':
			v = v<<4 | byte(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// fallbackToken is the byte-fallback token of b, as Hugging Face spells it.
func fallbackToken(b byte) string { return fmt.Sprintf("<0x%02X>", b) }
