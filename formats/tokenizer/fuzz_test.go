package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPretokenize checks what every split and the byte-level encoder must
// do with any input, valid UTF-8 or not: the pieces are non-empty and give
// the text back, and decoding gives back the text's bytes.
func FuzzPretokenize(f *testing.F) {
	for _, s := range edgeTexts {
		f.Add(s)
	}
	f.Add("\xff\xfe invalid \xc3")
	f.Add("a\u0301\u0301 'LL 12345\r\n\r\n  \t")
	tok, err := Load("testdata/llama3")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for pattern, split := range splitters {
			var pieces []string
			split(text, func(p string) { pieces = append(pieces, p) })
			for _, p := range pieces {
				if p == "" {
					t.Fatalf("%s split of %q: an empty piece", patternNames[pattern], text)
				}
			}
			if got := strings.Join(pieces, ""); got != text {
				t.Fatalf("%s split of %q gives back %q", patternNames[pattern], text, got)
			}
		}
		ids, err := tok.Encode(text, WithoutBOS)
		if err != nil {
			t.Fatal(err)
		}
		back, err := tok.Decode(ids)
		if err != nil || back != text {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", text, back, err)
		}
		if utf8.ValidString(text) && len(ids) > len(text) {
			t.Fatalf("%q: %d tokens for %d bytes", text, len(ids), len(text))
		}
	})
}
