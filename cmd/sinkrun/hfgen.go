package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sinkrun/sinkrun/formats/hf"
)

// hfGenerateName is the hidden command that writes a checkpoint with random
// weights: the fixture of experiments/pretrained/ and the way to try a
// model size (e.g. GPT-2 XL's) without downloading one. It is left out of
// the command list (a developer's tool) and documented in docs/pretrained.md.
const hfGenerateName = "hf-generate"

// byteTokenizerEOT is the one special token of the tokenizer hf-generate
// writes, after the 256 byte tokens; it is the BOS and EOS.
const byteTokenizerEOT = "<|endoftext|>"

func cmdHFGenerate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags(hfGenerateName, "--preset NAME [flags] DIR",
		"Write a Hugging Face checkpoint with random weights to DIR (config.json, model.safetensors or shards with\n"+
			"model.safetensors.index.json) in the layout of the preset's family, and a byte-level BPE tokenizer\n"+
			"(vocab.json: the 256 byte tokens, then "+byteTokenizerEOT+" = 256, its BOS and EOS; merges.txt without\n"+
			"merges); the vocabulary grows to at least 257 to hold it. Presets: "+strings.Join(hf.PresetNames(), ", ")+".", stderr)
	preset := fs.String("preset", "", "the architecture (required)")
	seed := fs.Int64("seed", 1, "seed of the random weights")
	dtype := fs.String("dtype", "F32", "weight dtype: F32, F16 or BF16")
	shards := fs.Int("shards", 1, "number of safetensors files (more than 1 writes an index)")
	tok := fs.Bool("tokenizer", true, "write the byte-level tokenizer (false: weights and config.json only, the preset's vocabulary)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) != 1 || *preset == "" {
		fs.Usage()
		return exitUsage
	}
	dir := rest[0]
	a, err := hf.LookupPreset(*preset)
	if err != nil {
		fmt.Fprintf(stderr, "sinkrun %s: %v\n", hfGenerateName, err)
		return exitUsage
	}
	if *tok {
		a.Vocab = max(a.Vocab, 257)
		a.BOS, a.EOS = 256, []int{256}
	}
	if err := hf.Generate(dir, a, *seed, *dtype, *shards); err != nil {
		fmt.Fprintf(stderr, "sinkrun %s: %v\n", hfGenerateName, err)
		return exitError
	}
	if *tok {
		if err := writeByteTokenizer(dir); err != nil {
			fmt.Fprintf(stderr, "sinkrun %s: %v\n", hfGenerateName, err)
			return exitError
		}
	}
	fmt.Fprintf(stdout, "%s: %s, %d parameters\n", dir, a, hf.ParamCount(a))
	return exitOK
}

// writeByteTokenizer writes a GPT-2-layout byte-level BPE without merges:
// every byte is its own token (byte b is id b, under GPT-2's byte-to-rune
// mapping), then the end-of-text token, the BOS.
func writeByteTokenizer(dir string) error {
	vocab := map[string]int{byteTokenizerEOT: 256}
	for b, r := range gpt2ByteRunes() {
		vocab[string(r)] = b
	}
	files := map[string]any{
		"vocab.json": vocab,
		"tokenizer_config.json": map[string]any{"bos_token": byteTokenizerEOT, "eos_token": byteTokenizerEOT,
			"add_bos_token": false, "tokenizer_class": "GPT2Tokenizer"},
	}
	for name, v := range files {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\n"), 0o644)
}

// gpt2ByteRunes is GPT-2's bytes_to_unicode: printable bytes stand for
// themselves, the others for the runes from 256 on, in byte order.
func gpt2ByteRunes() [256]rune {
	var out [256]rune
	next := rune(256)
	for b := range 256 {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE {
			out[b] = rune(b)
		} else {
			out[b] = next
			next++
		}
	}
	return out
}
