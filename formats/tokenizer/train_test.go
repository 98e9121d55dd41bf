package tokenizer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countDocs counts the words of docs.
func countDocs(docs ...string) WordCounts {
	w := WordCounts{}
	for _, d := range docs {
		w.Add([]byte(d))
	}
	return w
}

// spelledMerges lists the merges as merges.txt writes them.
func spelledMerges(t *Trained) []string {
	runes := byteRunes()
	var out []string
	for _, m := range t.merges {
		out = append(out, tokenString(&runes, t.tokens[m[0]])+" "+tokenString(&runes, t.tokens[m[1]]))
	}
	return out
}

func TestTrainMergesByHand(t *testing.T) {
	tests := []struct {
		name   string
		docs   []string
		vocab  int
		merges []string
	}{
		// Words "aaab", " aaab", " ab". Pairs: a a 4, a b 3, ␠ a 2 -> "a a";
		// then a b 3; then aa ab 2; then ␠ aaab 1 and ␠ ab 1 tie, and
		// "aaab" < "ab" puts ␠ aaab first.
		{"frequency", []string{"aaab aaab ab"}, 262, []string{"a a", "a b", "aa ab", "Ġ aaab", "Ġ ab"}},
		{"fewer merges", []string{"aaab aaab ab"}, 259, []string{"a a", "a b"}},
		{"no merges", []string{"aaab aaab ab"}, 257, nil},
		// Words "ab", " ba": every pair once; ties go to the smaller left
		// token (␠ < a < b), then to the smaller right one.
		{"ties", []string{"ab ba"}, 260, []string{"Ġ b", "Ġb a", "a b"}},
		// Counts weigh the pairs: "xy" three times beats "ab" twice.
		{"word counts", []string{"ab", "ab", "xy", "xy", "xy"}, 259, []string{"x y", "a b"}},
		// Bytes that are not UTF-8 merge like any others.
		{"invalid utf-8", []string{"\xff\xfe\xff\xfe"}, 259, []string{"ÿ þ", "ÿþ ÿþ"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := Train(countDocs(tc.docs...), tc.vocab)
			if err != nil {
				t.Fatal(err)
			}
			if got := spelledMerges(tr); strings.Join(got, "|") != strings.Join(tc.merges, "|") {
				t.Errorf("merges %q, want %q", got, tc.merges)
			}
			if tr.Size() != tc.vocab {
				t.Errorf("Size() = %d, want %d", tr.Size(), tc.vocab)
			}
		})
	}
}

func TestTrainRefuses(t *testing.T) {
	tests := []struct {
		name  string
		docs  []string
		vocab int
		want  string
	}{
		{"vocab below 257", []string{"hello"}, 256, "too small: it needs at least 257"},
		{"vocab zero", []string{"hello"}, 0, "too small"},
		{"text runs out of pairs", []string{"aaab aaab ab"}, 263, "a vocabulary of 262 ids is the most it gives"},
		{"no text", nil, 300, "after 0 merges"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(countDocs(tc.docs...), tc.vocab)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// syntheticDocs makes a deterministic corpus: words from a small lexicon
// with punctuation, digits, runs of spaces and stray bytes.
func syntheticDocs(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	lexicon := []string{"the", "attention", "sink", "token", "model", "layer", "über", "日本語", "x", "it's", "we'll"}
	var docs []string
	for range n {
		var sb strings.Builder
		for range 20 + r.IntN(80) {
			switch k := r.IntN(20); {
			case k == 0:
				sb.WriteString("\n\n    ")
			case k == 1:
				sb.WriteByte(byte(r.IntN(256)))
			case k == 2:
				sb.WriteString(" 12345"[:2+r.IntN(5)])
			case k == 3:
				sb.WriteString(", ")
			default:
				sb.WriteString(" " + lexicon[r.IntN(len(lexicon))])
			}
		}
		docs = append(docs, sb.String())
	}
	return docs
}

func trainAndWrite(t *testing.T, docs []string, vocab int) (*Trained, string) {
	t.Helper()
	tr, err := Train(countDocs(docs...), vocab)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tr.Write(dir); err != nil {
		t.Fatal(err)
	}
	return tr, dir
}

func TestTrainIsDeterministic(t *testing.T) {
	docs := syntheticDocs(200)
	_, dir1 := trainAndWrite(t, docs, 400)
	_, dir2 := trainAndWrite(t, docs, 400)
	for _, name := range []string{VocabJSON, MergesTXT} {
		a, err := os.ReadFile(filepath.Join(dir1, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir2, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two trainings on the same text", name)
		}
	}
}

func TestTrainedLoadsAndRoundTrips(t *testing.T) {
	docs := syntheticDocs(200)
	for _, vocab := range []int{257, 300, 400} {
		tr, dir := trainAndWrite(t, docs, vocab)
		tok, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Size() != vocab || tok.Kind() != ByteLevel {
			t.Fatalf("vocab %d: loaded %s with %d ids, want byte-level with %d", vocab, tok.Describe(), tok.Size(), vocab)
		}
		if bos, ok := tok.BOS(); !ok || bos != vocab-1 || tok.Token(bos) != EndOfText || tok.AddsBOS() {
			t.Errorf("vocab %d: BOS %d (%v, added %v), want %s at %d, not added", vocab, bos, ok, tok.AddsBOS(), EndOfText, vocab-1)
		}
		// The loader's encoder applies the merges as training did: the
		// training text has as many tokens as training counted.
		var tokens int64
		for _, d := range docs {
			tokens += int64(len(tok.AppendText(nil, d)))
		}
		if tokens != tr.Stats.Tokens {
			t.Errorf("vocab %d: the loaded tokenizer makes %d tokens of the training text, training counted %d", vocab, tokens, tr.Stats.Tokens)
		}
		texts := []string{"", "the attention sink", "\xff\xfe invalid \xc3 utf-8 \x00", "unseen: ζ→∞ qqq", docs[0]}
		for _, text := range texts {
			ids, err := tok.Encode(text, WithoutBOS)
			if err != nil {
				t.Fatal(err)
			}
			back, err := tok.Decode(ids)
			if err != nil || back != text {
				t.Errorf("vocab %d: Decode(Encode(%q)) = %q, %v", vocab, text, back, err)
			}
		}
	}
}

func TestTrainCompresses(t *testing.T) {
	docs := syntheticDocs(200)
	small, _ := trainAndWrite(t, docs, 257)
	large, _ := trainAndWrite(t, docs, 400)
	if small.BytesPerToken() != 1 {
		t.Errorf("without merges, %g bytes a token, want 1", small.BytesPerToken())
	}
	if large.BytesPerToken() <= 2 {
		t.Errorf("with 143 merges on a 11-word lexicon, %g bytes a token, want more than 2", large.BytesPerToken())
	}
}

// trainToLastPair trains on docs until no pair is left to merge. Each
// merge leaves fewer tokens in the words, so there are fewer merges than
// bytes.
func trainToLastPair(t *testing.T, docs []string) *Trained {
	t.Helper()
	counts := countDocs(docs...)
	limit := MinTrainVocab
	for _, d := range docs {
		limit += len(d)
	}
	var last *Trained
	for vocab := MinTrainVocab; vocab <= limit; vocab++ {
		tr, err := Train(counts, vocab)
		if err != nil {
			if last == nil || !strings.Contains(err.Error(), "no more pairs to merge") {
				t.Fatal(err)
			}
			return last
		}
		last = tr
	}
	t.Fatalf("still merging at %d ids, with fewer bytes than merges", limit)
	return nil
}

// wordsOf makes n documents of random words over an alphabet: short
// alphabets make long runs, whose left-to-right pairing depends on their
// length, and bytes reachable by several pairs of tokens.
func wordsOf(r *rand.Rand, alphabet string, n int) []string {
	var docs []string
	for range n {
		var sb strings.Builder
		for range 1 + r.IntN(6) {
			sb.WriteByte(' ')
			for range 2 + r.IntN(10) {
				sb.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
		}
		docs = append(docs, sb.String())
	}
	return docs
}

// A merge whose bytes another merge made already would reopen pairs that
// were merged, list them twice in merges.txt, and let the encoder tokenize
// otherwise than training counted. Train argues it never happens (two spans
// of the same bytes that become tokens are merged alike); these texts try
// it: a token two pairs of the vocabulary spell (" abc" is " a"+"bc" and
// " ab"+"c"), runs, and random words, each trained until no pair is left.
func TestTrainMakesEachTokenOnce(t *testing.T) {
	tests := []struct {
		name string
		docs []string
	}{
		{"two routes", []string{"abc abc ab ab ab bc bc bc bc abcd abcd xab xbc"}},
		{"runs", []string{"aaa aaaa aaaaa baaa aaab aaaab baaaab aaaaaaa"}},
		{"repeats", []string{"abab ababab bab aba ababa babab"}},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 40 {
		tests = append(tests, struct {
			name string
			docs []string
		}{fmt.Sprintf("random %d", i), wordsOf(r, "abc"[:2+i%2], 1+i%4)})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := trainToLastPair(t, tc.docs)
			seen := map[string]bool{}
			for _, m := range spelledMerges(tr) {
				if seen[m] {
					t.Errorf("merge %q is listed twice", m)
				}
				seen[m] = true
			}
			if tr.Merges() != tr.Size()-MinTrainVocab {
				t.Errorf("%d merges for %d ids: each merge should add one id", tr.Merges(), tr.Size())
			}
			dir := t.TempDir()
			if err := tr.Write(dir); err != nil {
				t.Fatal(err)
			}
			tok, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			var tokens int64
			for _, d := range tc.docs {
				tokens += int64(len(tok.AppendText(nil, d)))
			}
			if tokens != tr.Stats.Tokens || tok.Size() != tr.Size() {
				t.Errorf("the loaded tokenizer (%d ids) makes %d tokens of the text, training (%d ids) counted %d", tok.Size(), tokens, tr.Size(), tr.Stats.Tokens)
			}
		})
	}
}
