package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture reads a testdata tokenizer.json as a generic JSON tree, to be
// spoiled by a test.
func fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name, TokenizerJSON))
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := json.Unmarshal(data, &tree); err != nil {
		t.Fatal(err)
	}
	return tree
}

func writeFile(t *testing.T, path string, v any) {
	t.Helper()
	data, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		data = string(b)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func model(tree map[string]any) map[string]any { return tree["model"].(map[string]any) }

// Every bad input is refused with an error naming the file and what is
// wrong.
func TestBadTokenizerJSON(t *testing.T) {
	for _, c := range []struct {
		name    string
		base    string
		spoil   func(tree map[string]any)
		config  any // tokenizer_config.json, if not nil
		wantErr string
	}{
		{"unigram model", "llama2", func(tr map[string]any) { model(tr)["type"] = "Unigram" }, nil,
			`model type "Unigram" is not supported`},
		{"wordpiece model", "llama2", func(tr map[string]any) { model(tr)["type"] = "WordPiece" }, nil,
			`model type "WordPiece" is not supported`},
		{"no model", "llama2", func(tr map[string]any) { delete(tr, "model") }, nil, "no model"},
		{"merge of an unknown token", "llama2", func(tr map[string]any) {
			model(tr)["merges"] = []any{"▁ h", "q u"}
		}, nil, `model.merges[1]: merge "q" "u": "q" is not in the vocabulary`},
		{"merge into an unknown token", "llama2", func(tr map[string]any) {
			model(tr)["merges"] = []any{"▁ h", "h e"}
		}, nil, `model.merges[1]: merge "h" "e": the merged token "he" is not in the vocabulary`},
		{"malformed merge", "llama2", func(tr map[string]any) { model(tr)["merges"] = []any{"▁h"} }, nil,
			`model.merges[0]: "▁h" is not a merge`},
		{"two ids for one token", "llama2", func(tr map[string]any) {
			model(tr)["vocab"].(map[string]any)["<unk>"] = 5
		}, nil, "both have id 5"},
		{"missing byte-fallback token", "llama2", func(tr map[string]any) {
			delete(model(tr)["vocab"].(map[string]any), "<0x41>")
		}, nil, "byte_fallback is on but the vocabulary lacks <0x41>"},
		{"missing byte symbol", "qwen2", func(tr map[string]any) {
			delete(model(tr)["vocab"].(map[string]any), "~")
		}, nil, `byte-level vocabulary lacks "~", the symbol of byte 0x7E`},
		{"unknown split pattern", "llama3", func(tr map[string]any) {
			tr["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)["pattern"] =
				map[string]any{"Regex": `\p{L}+|\p{N}`}
		}, nil, `pre_tokenizer Split pattern "\\p{L}+|\\p{N}" is not supported`},
		{"unsupported pre-tokenizer", "llama2", func(tr map[string]any) {
			tr["pre_tokenizer"] = map[string]any{"type": "Whitespace"}
		}, nil, `pre_tokenizer "Whitespace" is not supported`},
		{"unsupported normalizer", "llama2", func(tr map[string]any) {
			tr["normalizer"] = map[string]any{"type": "Lowercase"}
		}, nil, `normalizer "Lowercase" is not supported`},
		{"dropout", "llama2", func(tr map[string]any) { model(tr)["dropout"] = 0.1 }, nil, "dropout 0.1 is not supported"},
		{"EOS after the text", "llama2", func(tr map[string]any) {
			pp := tr["post_processor"].(map[string]any)
			pp["single"] = append(pp["single"].([]any), map[string]any{"SpecialToken": map[string]any{"id": "</s>"}})
		}, nil, `post_processor adds "</s>" after the text`},
		{"unsupported post-processor", "llama2", func(tr map[string]any) {
			tr["post_processor"] = map[string]any{"type": "RobertaProcessing"}
		}, nil, `post_processor "RobertaProcessing" is not supported`},
		{"non-special added token, SentencePiece-style", "llama2", func(tr map[string]any) {
			tr["added_tokens"] = append(tr["added_tokens"].([]any), map[string]any{"id": 278, "content": "<pad>", "special": false})
		}, nil, `added token "<pad>" is not special, which a SentencePiece-style tokenizer does not support`},
		{"single_word added token", "qwen2", func(tr map[string]any) {
			tr["added_tokens"] = append(tr["added_tokens"].([]any), map[string]any{"id": 269, "content": "hey", "single_word": true})
		}, nil, `added token "hey": single_word, lstrip and rstrip are not supported`},
		{"unknown BOS token", "llama2", nil, map[string]any{"add_bos_token": true, "bos_token": "<bos>"},
			`the BOS token "<bos>" is not in the vocabulary`},
		{"BOS added but null", "llama2", nil, map[string]any{"bos_token": nil},
			"a BOS is to be added (add_bos_token or the post-processor) but bos_token is null"},
		{"add_prefix_space against the normalizer", "llama2", nil, map[string]any{"add_prefix_space": false},
			"add_prefix_space false, but"},
		{"add_eos_token", "llama2", nil, map[string]any{"add_eos_token": true}, "add_eos_token is not supported"},
		{"not JSON", "llama2", nil, nil, "invalid character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, TokenizerJSON)
			if c.name == "not JSON" {
				writeFile(t, path, "{model: BPE}")
			} else {
				tree := fixture(t, c.base)
				if c.spoil != nil {
					c.spoil(tree)
				}
				writeFile(t, path, tree)
			}
			if c.config != nil {
				writeFile(t, filepath.Join(dir, configJSON), c.config)
			}
			_, err := Load(dir)
			if err == nil {
				t.Fatalf("Load: no error, want %q", c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), dir) {
				t.Errorf("Load: %v\nwant an error naming %s with %q", err, dir, c.wantErr)
			}
		})
	}
}

func TestBadDirectoryAndMergesFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "holds neither tokenizer.json nor vocab.json and merges.txt") {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "missing")+" does not exist") {
		t.Errorf("missing path: %v", err)
	}
	if _, err := Load(os.DevNull); err == nil || !strings.Contains(err.Error(), os.DevNull+" is not a regular file") {
		t.Errorf("a device: %v", err)
	}
	vocab, err := os.ReadFile("testdata/opt/vocab.json")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, VocabJSON), string(vocab))
	writeFile(t, filepath.Join(dir, MergesTXT), "#version: 0.2\nH e\nHe\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "merges.txt:3: \"He\" is not a merge") {
		t.Errorf("bad merges line: %v", err)
	}
	writeFile(t, filepath.Join(dir, MergesTXT), "H e\nHe llo\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `merges.txt:2: merge "He" "llo": "llo" is not in the vocabulary`) {
		t.Errorf("unknown merge token: %v", err)
	}
}

func TestCheckVocab(t *testing.T) {
	tok := load(t, "testdata/llama2") // 278 tokens
	for _, c := range []struct {
		vocab int
		ok    bool
	}{{278, true}, {320, true}, {277, false}, {256, false}} {
		err := tok.CheckVocab(c.vocab)
		if (err == nil) != c.ok {
			t.Errorf("CheckVocab(%d) = %v, want ok %v", c.vocab, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "testdata/llama2/tokenizer.json") {
			t.Errorf("CheckVocab(%d) = %v: does not name the file", c.vocab, err)
		}
	}
}
