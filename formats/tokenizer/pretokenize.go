package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// The pre-tokenization regexes of the supported families, as tokenizer.json
// files spell them. Go's regexp has no lookahead (`\s+(?!\S)`), so each is
// implemented by hand below, following the backtracking regex engines'
// leftmost-first semantics: at each position the first alternative that
// matches wins. `\s` is Unicode White_Space (as in the Rust, Oniguruma and
// Python regex engines), `\p{L}` letters and `\p{N}` numbers.
const (
	// GPT2Pattern is GPT-2's split, also what a ByteLevel pre-tokenizer
	// with use_regex applies (GPT-2, GPT-NeoX / Pythia, OPT).
	GPT2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	// Llama3Pattern is LLaMA-3's split (tiktoken's cl100k_base): contractions
	// in any case, one optional non-letter before a letter run, numbers in
	// groups of up to three digits, newlines kept apart.
	Llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	// Qwen2Pattern is Qwen2's split: LLaMA-3's with one digit per piece.
	Qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// splitter cuts text into pieces that BPE then encodes one by one; the
// pieces concatenate back to the text.
type splitter func(text string, emit func(piece string))

// splitters maps each supported pattern to its hand-written implementation.
var splitters = map[string]splitter{
	GPT2Pattern:   splitGPT2,
	Llama3Pattern: func(s string, emit func(string)) { splitCL100K(s, 3, emit) },
	Qwen2Pattern:  func(s string, emit func(string)) { splitCL100K(s, 1, emit) },
}

func isSpace(r rune) bool  { return unicode.IsSpace(r) }
func isLetter(r rune) bool { return unicode.IsLetter(r) }
func isNumber(r rune) bool { return unicode.IsNumber(r) }

// isOther is [^\s\p{L}\p{N}].
func isOther(r rune) bool { return !isSpace(r) && !isLetter(r) && !isNumber(r) }

// runeAt decodes the rune at byte i of s; at the end of s it returns -1, which
// is in no class.
func runeAt(s string, i int) (rune, int) {
	if i >= len(s) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(s[i:])
}

// run returns the end of the run of runes in class starting at byte i, and
// the number of runes in it (at most limit when limit > 0).
func run(s string, i int, class func(rune) bool, limit int) (end, n int) {
	for i < len(s) && (limit <= 0 || n < limit) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !class(r) {
			break
		}
		i += w
		n++
	}
	return i, n
}

var contractions = []string{"s", "t", "re", "ve", "m", "ll", "d"}

// contraction returns the end of 's, 't, 're, 've, 'm, 'll or 'd at byte i,
// or -1. With fold the letters match in any case (Unicode simple folding, as
// the regex engines' (?i) does: 'ſ' matches s).
func contraction(s string, i int, fold bool) int {
	if i >= len(s) || s[i] != '\'' {
		return -1
	}
	for _, c := range contractions {
		j := i + 1
		ok := true
		for _, want := range c {
			r, w := runeAt(s, j)
			if r != want && !(fold && sameFold(r, want)) {
				ok = false
				break
			}
			j += w
		}
		if ok {
			return j
		}
	}
	return -1
}

// sameFold reports whether r and want are in the same case-folding orbit.
func sameFold(r, want rune) bool {
	if r < 0 {
		return false
	}
	for f := unicode.SimpleFold(want); f != want; f = unicode.SimpleFold(f) {
		if f == r {
			return true
		}
	}
	return false
}

// spaceRun is the shared tail of both patterns, `\s+(?!\S)|\s+` at byte i
// (a whitespace rune): a whitespace run that reaches the end of the text is
// one piece; one followed by other text leaves its last rune to that text
// (unless the run is a single rune).
func spaceRun(s string, i int) int {
	end, n := run(s, i, isSpace, 0)
	if end == len(s) || n == 1 {
		return end
	}
	_, w := utf8.DecodeLastRuneInString(s[:end])
	return end - w
}

// splitGPT2 implements GPT2Pattern.
func splitGPT2(s string, emit func(string)) {
	for i := 0; i < len(s); {
		end := gpt2Piece(s, i)
		emit(s[i:end])
		i = end
	}
}

func gpt2Piece(s string, i int) int {
	if j := contraction(s, i, false); j >= 0 {
		return j
	}
	r, w := runeAt(s, i)
	// ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then
	// a run of one class.
	start := i
	if r == ' ' {
		if next, _ := runeAt(s, i+w); next >= 0 && !isSpace(next) {
			r, start = next, i+w
		}
	}
	for _, class := range []func(rune) bool{isLetter, isNumber, isOther} {
		if class(r) {
			end, _ := run(s, start, class, 0)
			return end
		}
	}
	return spaceRun(s, i)
}

// splitCL100K implements Llama3Pattern (maxDigits 3) and Qwen2Pattern
// (maxDigits 1).
func splitCL100K(s string, maxDigits int, emit func(string)) {
	for i := 0; i < len(s); {
		end := cl100kPiece(s, i, maxDigits)
		emit(s[i:end])
		i = end
	}
}

func isCRLF(r rune) bool { return r == '\r' || r == '\n' }

func cl100kPiece(s string, i, maxDigits int) int {
	if j := contraction(s, i, true); j >= 0 {
		return j
	}
	r, w := runeAt(s, i)
	next, _ := runeAt(s, i+w)
	// `[^\r\n\p{L}\p{N}]?\p{L}+`
	if isLetter(r) {
		end, _ := run(s, i, isLetter, 0)
		return end
	}
	if !isCRLF(r) && !isNumber(r) && isLetter(next) {
		end, _ := run(s, i+w, isLetter, 0)
		return end
	}
	// `\p{N}{1,maxDigits}`
	if isNumber(r) {
		end, _ := run(s, i, isNumber, maxDigits)
		return end
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	if isOther(r) || (r == ' ' && isOther(next)) {
		start := i
		if r == ' ' {
			start = i + w
		}
		end, _ := run(s, start, isOther, 0)
		end, _ = run(s, end, isCRLF, 0)
		return end
	}
	// `\s*[\r\n]+`: the whitespace run up to its last \r or \n, if any.
	end, _ := run(s, i, isSpace, 0)
	for j := end; j > i; {
		r, w := utf8.DecodeLastRuneInString(s[:j])
		if isCRLF(r) {
			return j
		}
		j -= w
	}
	return spaceRun(s, i)
}
