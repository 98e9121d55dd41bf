package tokenizer

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// The fixtures and the hand-worked ids are described in testdata/README.md.

func load(t *testing.T, path string) *Tokenizer {
	t.Helper()
	tok, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type encodeCase struct {
	text string
	bos  BOSPolicy
	want []int
}

// checkEncode checks the cases' ids, and that decoding gives the text back,
// or decoded[text] where normalization changed it.
func checkEncode(t *testing.T, tok *Tokenizer, cases []encodeCase, decoded map[string]string) {
	t.Helper()
	for _, c := range cases {
		got, err := tok.Encode(c.text, c.bos)
		if err != nil {
			t.Errorf("%s: Encode(%q): %v", tok.Source(), c.text, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: Encode(%q, %d) = %v, want %v", tok.Source(), c.text, c.bos, got, c.want)
		}
		want, changed := decoded[c.text]
		if !changed {
			want = c.text
		}
		text, err := tok.Decode(got)
		if c.bos == WithoutBOS && (err != nil || text != want) {
			t.Errorf("%s: Decode(%v) = %q, %v; want %q", tok.Source(), got, text, err, want)
		}
	}
}

// sentencePieceCases hold for both layouts of the SentencePiece fixture.
var sentencePieceCases = []encodeCase{
	{"hello world", FamilyBOS, []int{1, 271, 276}},
	{"hello world", WithBOS, []int{1, 271, 276}},
	{"hello world", WithoutBOS, []int{271, 276}},
	{"world", WithoutBOS, []int{276}},
	{"lll", WithoutBOS, []int{259, 268, 262}},
	{"hé", WithoutBOS, []int{267, 277}},
	{"x", WithoutBOS, []int{259, 123}},
	{"hello 😀", WithoutBOS, []int{271, 259, 243, 162, 155, 131}},
	{"hello\nworld", WithoutBOS, []int{271, 13, 264, 273, 275}},
	{"", WithoutBOS, []int{}},
	{"", FamilyBOS, []int{1}},
}

func TestSentencePieceLlama2Layout(t *testing.T) {
	tok := load(t, "testdata/llama2")
	if tok.Kind() != SentencePiece {
		t.Errorf("Kind() = %v", tok.Kind())
	}
	checkEncode(t, tok, append(slices.Clone(sentencePieceCases),
		encodeCase{" hello", WithoutBOS, []int{259, 271}}), nil)
	checkBOS(t, tok, 1, true)
	// add_prefix_space true agrees with the Prepend normalizer.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, TokenizerJSON), fixture(t, "llama2"))
	var cfg map[string]any
	if err := readJSON(filepath.Join("testdata", "llama2", configJSON), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["add_prefix_space"] = true
	writeFile(t, filepath.Join(dir, configJSON), cfg)
	checkEncode(t, load(t, dir), sentencePieceCases, nil)
}

func TestSentencePieceMetaspaceLayout(t *testing.T) {
	tok := load(t, "testdata/mistral/tokenizer.json")
	checkEncode(t, tok, append(slices.Clone(sentencePieceCases),
		encodeCase{" hello", WithoutBOS, []int{271}}),
		map[string]string{" hello": "hello"})
	checkBOS(t, tok, 1, true)
}

func TestByteLevelLlama3Layout(t *testing.T) {
	tok := load(t, "testdata/llama3")
	checkEncode(t, tok, []encodeCase{
		{"Hello world 12345", FamilyBOS, []int{267, 259, 266, 32, 264, 265}},
		{"Hello world 12345", WithoutBOS, []int{259, 266, 32, 264, 265}},
		{"HELLO'S", WithoutBOS, []int{72, 69, 76, 76, 79, 39, 83}},
	}, nil)
	checkBOS(t, tok, 267, true)
	// ignore_merges is what makes " world" one token.
	tok.ignoreMerges = false
	tok.cache = wordCache{}
	checkEncode(t, tok, []encodeCase{{"Hello world 12345", WithoutBOS, []int{259, 262, 108, 100, 32, 264, 265}}}, nil)
}

func TestByteLevelQwen2Layout(t *testing.T) {
	tok := load(t, "testdata/qwen2")
	checkEncode(t, tok, []encodeCase{
		{"Hello world 12345", FamilyBOS, []int{259, 262, 108, 100, 32, 49, 50, 51, 52, 53}},
		{"e\u0301", WithoutBOS, []int{195, 169}},
	}, map[string]string{"e\u0301": "é"})
	checkBOS(t, tok, -1, false)
	if _, err := tok.Encode("x", WithBOS); err == nil {
		t.Error("Encode(WithBOS) without a BOS: no error")
	}
}

func TestByteLevelOPTLayout(t *testing.T) {
	tok := load(t, "testdata/opt")
	checkEncode(t, tok, []encodeCase{
		{"He", FamilyBOS, []int{2, 260}},
		{"Hi", FamilyBOS, []int{2, 76, 109}},
		{"Hi", WithoutBOS, []int{76, 109}},
	}, nil)
	checkBOS(t, tok, 2, true)
}

func TestByteLevelNeoXLayout(t *testing.T) {
	tok := load(t, "testdata/neox")
	checkEncode(t, tok, []encodeCase{
		{"He  He    He", FamilyBOS, []int{259, 260, 259, 261, 259}},
		{"He   He", FamilyBOS, []int{259, 260, 34, 259}},
		{"  ", FamilyBOS, []int{260}},
	}, nil)
	checkBOS(t, tok, 0, false)
}

func TestAddedMatcher(t *testing.T) {
	m := &addedMatcher{}
	m.add("ab", 1)
	m.add("abc", 2)
	m.add("b", 3)
	var got []string
	m.split("xabcabbab", func(s string) { got = append(got, s) }, func(id int32) { got = append(got, fmt.Sprint(id)) })
	// Leftmost first, then longest: abc at 1, ab at 4, b at 6, ab at 7.
	if want := []string{"x", "2", "1", "3", "1"}; !slices.Equal(got, want) {
		t.Errorf("split = %q, want %q", got, want)
	}
}

// checkBOS checks BOS() and AddsBOS(); id -1 means no BOS.
func checkBOS(t *testing.T, tok *Tokenizer, id int, adds bool) {
	t.Helper()
	got, ok := tok.BOS()
	if (id >= 0) != ok || (ok && got != id) || tok.AddsBOS() != adds {
		t.Errorf("%s: BOS() = %d, %v; AddsBOS() = %v; want %d, added %v", tok.Source(), got, ok, tok.AddsBOS(), id, adds)
	}
}

func TestMetaspaceSplit(t *testing.T) {
	for _, c := range []struct {
		step metaspaceStep
		text string
		want []string
	}{
		{metaspaceStep{"▁", true, true}, "hello world", []string{"▁hello", "▁world"}},
		{metaspaceStep{"▁", true, true}, "a  b", []string{"▁a", "▁", "▁b"}},
		{metaspaceStep{"▁", false, true}, "a b", []string{"a", "▁b"}},
		{metaspaceStep{"▁", true, false}, " a b", []string{"▁a▁b"}},
		{metaspaceStep{"▁", true, true}, "", nil},
	} {
		var got []string
		c.step.apply(c.text, func(p string) { got = append(got, p) })
		if !slices.Equal(got, c.want) {
			t.Errorf("%+v on %q = %q, want %q", c.step, c.text, got, c.want)
		}
	}
}

// A Tokenizer is shared by the goroutines that build probes and corpora.
func TestConcurrentEncode(t *testing.T) {
	tok := load(t, "testdata/neox")
	texts := differentialTexts(200)
	want := make([][]int, len(texts))
	for i, s := range texts {
		want[i], _ = tok.Encode(s, WithoutBOS)
	}
	fresh := load(t, "testdata/neox") // an empty cache, filled concurrently
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range texts {
				k := (i + g*50) % len(texts)
				if got, _ := fresh.Encode(texts[k], WithoutBOS); !slices.Equal(got, want[k]) {
					t.Errorf("Encode(%q) = %v, want %v", texts[k], got, want[k])
				}
			}
		})
	}
	wg.Wait()
}
