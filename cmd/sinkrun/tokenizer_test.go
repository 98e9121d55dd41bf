package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/formats/tokenizer"
)

func runTokenizer(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = dispatch(context.Background(), append([]string{"tokenizer"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestTokenizerTrainCommand(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, text := range []string{"the sink token and the attention sink\n", "a sink, the sink, his sinks: 12345 ümlaut\n"} {
		p := filepath.Join(dir, string(rune('a'+i))+".txt")
		if err := os.WriteFile(p, []byte(strings.Repeat(text, 20)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	out := filepath.Join(dir, "tok")
	code, stdout, stderr := runTokenizer(append([]string{"train", "--vocab", "280", "--out", out}, files...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"read 2 documents", "23 merges", "280 ids", "bytes/token", "separator eot(token: 279)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	tok, err := tokenizer.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Size() != 280 {
		t.Errorf("the written tokenizer has %d ids, want 280", tok.Size())
	}
}

func TestTokenizerTrainMaxBytes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	// "ü" spans bytes 4 and 5: a cut at 5 keeps 4 bytes.
	if err := os.WriteFile(p, []byte("abcdüefgh abcd abcd"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runTokenizer("train", "--vocab", "257", "--max-bytes", "5", "--out", filepath.Join(dir, "tok"), p)
	if code != exitOK || !strings.Contains(stdout, "read 1 documents, 4 bytes") {
		t.Errorf("exit %d, output %q %q; want 4 bytes read", code, stdout, stderr)
	}
}

func TestTokenizerTrainUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tok")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, exitUsage, "Usage: sinkrun tokenizer train"},
		{[]string{"untrain"}, exitUsage, "Usage: sinkrun tokenizer train"},
		{[]string{"train", "--vocab", "256", "--out", out, "--corpus", "builtin"}, exitUsage, "--vocab 256: a vocabulary needs at least 257 ids"},
		{[]string{"train", "--vocab", "300", "--corpus", "builtin"}, exitUsage, "--out DIR is required"},
		{[]string{"train", "--vocab", "300", "--out", out}, exitUsage, "no corpus"},
		{[]string{"train", "--vocab", "300", "--out", out, "--corpus", "wiki"}, exitUsage, `--corpus "wiki": only builtin`},
		{[]string{"train", "--vocab", "300", "--out", out, "--corpus", "builtin", "x.txt"}, exitUsage, "either --corpus builtin or FILES"},
		{[]string{"train", "--vocab", "300", "--out", out, "no-such-file.txt"}, exitError, "no-such-file.txt"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runTokenizer(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}
