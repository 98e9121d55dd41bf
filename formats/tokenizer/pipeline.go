package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// normalizer rewrites the whole text before it is split.
type normalizer func(string) string

// preStep is one pre-tokenizer: it cuts a piece into smaller pieces (and
// may rewrite it, as Metaspace does).
type preStep interface {
	apply(text string, emit func(piece string))
}

// splitStep is a Split pre-tokenizer with behaviour Isolated: every match
// of the pattern is a piece.
type splitStep struct{ split splitter }

func (s splitStep) apply(text string, emit func(string)) { s.split(text, emit) }

// byteLevelStep is the ByteLevel pre-tokenizer: an optional leading space,
// then GPT-2's split when use_regex is on (split != nil). The mapping of
// bytes to symbols happens in encodePiece.
type byteLevelStep struct {
	prefixSpace bool
	split       splitter
}

func (s byteLevelStep) apply(text string, emit func(string)) {
	if text == "" {
		return
	}
	if s.prefixSpace && !strings.HasPrefix(text, " ") {
		text = " " + text
	}
	if s.split == nil {
		emit(text)
		return
	}
	s.split(text, emit)
}

// metaspaceStep is the Metaspace pre-tokenizer of SentencePiece-style
// tokenizers: spaces become the replacement ("▁"), which is also put first
// when prepend is on and the text does not start with it; with split, each
// "▁" starts a new piece.
type metaspaceStep struct {
	replacement string
	prepend     bool
	split       bool
}

func (s metaspaceStep) apply(text string, emit func(string)) {
	if text == "" {
		return
	}
	text = strings.ReplaceAll(text, " ", s.replacement)
	if s.prepend && !strings.HasPrefix(text, s.replacement) {
		text = s.replacement + text
	}
	if !s.split {
		emit(text)
		return
	}
	for text != "" {
		// A piece runs from its start to the next replacement.
		_, skip := utf8.DecodeRuneInString(text)
		if strings.HasPrefix(text, s.replacement) {
			skip = len(s.replacement)
		}
		end := strings.Index(text[skip:], s.replacement)
		if end < 0 {
			emit(text)
			return
		}
		emit(text[:skip+end])
		text = text[skip+end:]
	}
}
