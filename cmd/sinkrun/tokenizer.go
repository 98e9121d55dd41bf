package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/sinkrun/sinkrun/formats/tokenizer"
	"github.com/sinkrun/sinkrun/runtime/data"
)

// cmdTokenizer runs the tokenizer subcommands; train is the only one.
func cmdTokenizer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "train" {
		fmt.Fprintln(stderr, "Usage: sinkrun tokenizer train --vocab N --out DIR (--corpus builtin | FILES...) [--max-bytes N]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitUsage
	}
	return cmdTokenizerTrain(ctx, args[1:], stdout, stderr)
}

// cmdTokenizerTrain trains a byte-level BPE on a corpus and writes it as
// GPT-2's vocab.json and merges.txt.
func cmdTokenizerTrain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("tokenizer train", "--vocab N --out DIR (--corpus builtin | FILES...) [--max-bytes N]",
		"Train a byte-level BPE tokenizer, GPT-2 style, on the builtin corpus (the Go toolchain's .go files) or on text\n"+
			"FILES (each a document), and write vocab.json and merges.txt into --out for `tokenizer bpe(path: \"DIR\")`.\n"+
			"Ids 0-255 are the bytes, then the merged tokens, then <|endoftext|> (id N-1, for `separator eot(token: N-1)`).\n"+
			"The most frequent pair is merged first, ties to the pair whose tokens' bytes sort first: the same text\n"+
			"gives the same files. See docs/dsl.md.", stderr)
	vocab := fs.Int("vocab", 0, "the vocabulary size `N`, <|endoftext|> included (at least 257)")
	out := fs.String("out", "", "`DIR` to write vocab.json and merges.txt into (created)")
	corpus := fs.String("corpus", "", "`builtin` to train on the Go toolchain's .go files instead of FILES")
	maxBytes := fs.Int64("max-bytes", 0, "read at most `N` bytes of text (0: all)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "sinkrun tokenizer train: "+format+"\n", a...)
		return code
	}
	switch {
	case *vocab < tokenizer.MinTrainVocab:
		return fail(exitUsage, "--vocab %d: a vocabulary needs at least %d ids (the 256 bytes and <|endoftext|>)", *vocab, tokenizer.MinTrainVocab)
	case *out == "":
		return fail(exitUsage, "--out DIR is required: where to write vocab.json and merges.txt")
	case *corpus != "" && *corpus != "builtin":
		return fail(exitUsage, "--corpus %q: only builtin is known (give text files as arguments instead)", *corpus)
	case *corpus == "builtin" && len(files) > 0:
		return fail(exitUsage, "give either --corpus builtin or FILES, not both")
	case *corpus == "" && len(files) == 0:
		return fail(exitUsage, "no corpus: give --corpus builtin or text FILES")
	case *maxBytes < 0:
		return fail(exitUsage, "--max-bytes must be >= 0")
	}
	what := count(len(files), "file")
	if *corpus == "builtin" {
		var src, version string
		files, src, version, err = data.BuiltinFiles()
		if err != nil {
			return fail(exitError, "%v", err)
		}
		what = fmt.Sprintf("builtin corpus: %s %s", version, src)
	}
	start := time.Now()
	words := tokenizer.WordCounts{}
	docs, total, err := countWords(ctx, files, *maxBytes, words)
	if err != nil {
		return fail(exitError, "%v", err)
	}
	read := time.Since(start)
	fmt.Fprintf(stdout, "read %d documents, %d bytes (%s) in %.1fs\n", docs, total, what, read.Seconds())
	trained, err := tokenizer.Train(words, *vocab)
	if err != nil {
		return fail(exitError, "%v", err)
	}
	if err := trained.Write(*out); err != nil {
		return fail(exitError, "%v", err)
	}
	s := trained.Stats
	fmt.Fprintf(stdout, "trained %d merges on %d distinct words (%d in all) in %.1fs: %d ids (256 bytes, %d merged tokens, %s = %d)\n",
		trained.Merges(), s.Words, s.Pieces, (time.Since(start) - read).Seconds(), trained.Size(), trained.Size()-257, tokenizer.EndOfText, trained.Size()-1)
	fmt.Fprintf(stdout, "compression on the training text: %.3f bytes/token (%d bytes, %d tokens; separators not counted)\n",
		trained.BytesPerToken(), s.Bytes, s.Tokens)
	fmt.Fprintf(stdout, "wrote %s and %s; use it with: data { tokenizer bpe(path: %q)  separator eot(token: %d) }\n",
		filepath.Join(*out, tokenizer.VocabJSON), filepath.Join(*out, tokenizer.MergesTXT), *out, trained.Size()-1)
	return exitOK
}

// countWords reads files, each a document, into words until maxBytes
// bytes (0: no limit), cutting the last document at a character boundary.
// It returns the documents and bytes read.
func countWords(ctx context.Context, files []string, maxBytes int64, words tokenizer.WordCounts) (docs int, total int64, err error) {
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return docs, total, err
		}
		doc, err := os.ReadFile(f)
		if err != nil {
			return docs, total, err
		}
		full := maxBytes > 0 && total+int64(len(doc)) >= maxBytes
		if full {
			n := int(maxBytes - total)
			for n > 0 && n < len(doc) && !utf8.RuneStart(doc[n]) {
				n--
			}
			doc = doc[:n]
		}
		if len(doc) > 0 {
			words.Add(doc)
			docs++
			total += int64(len(doc))
		}
		if full {
			break
		}
	}
	return docs, total, nil
}
