package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/compiler/model"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/formats/hf"
	"github.com/sinkrun/sinkrun/formats/pretrained"
	"github.com/sinkrun/sinkrun/internal/atomicfile"
	"github.com/sinkrun/sinkrun/runtime/backend"
	"github.com/sinkrun/sinkrun/runtime/runner"
)

// cmdExport writes the final weights of a trained run as a Hugging Face
// checkpoint.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("export", "FILE.sink --out DIR [--run N | --id RUNID] [flags]",
		"Write the final model of a run of FILE as a Hugging Face checkpoint in --out: config.json and model.safetensors\n"+
			"(or shards), in the first family that expresses the model exactly: llama, qwen2, gpt2, gpt_neox or opt.\n"+
			"The run must have been trained with `sinkrun run --keep-weights`; a model no Hugging Face architecture\n"+
			"expresses (sigmoid attention, attention-bias slots, ALiBi, ...) is refused with the settings that prevent it.\n"+
			"A bpe tokenizer's files are copied; byte-level and synthetic-token runs have no tokenizer to copy.\n"+
			"See docs/export.md.", stderr)
	resultsDir := fs.String("results", "results", "the results `DIR` the run was trained into (the --out of sinkrun run)")
	out := fs.String("out", "", "`DIR` to write the checkpoint into (created; its earlier weight files are replaced)")
	runN := fs.Int("run", 0, "the run to export: its `N` in the # column of sinkrun plan FILE (1-based, over all experiments of FILE)")
	id := fs.String("id", "", "the run to export, by `RUNID` (the RUN ID column of sinkrun plan, or a unique prefix of it)")
	dtype := fs.String("dtype", "F32", "stored `dtype`: F32, BF16 or F16 (weights are trained in float32)")
	shards := fs.Int("shards", 1, "`N` safetensors files; more than 1 writes model-0000k-of-0000n.safetensors and an index")
	files, code, ok := parseFiles(fs, args)
	if !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "sinkrun export: "+format+"\n", a...)
		return code
	}
	if len(files) != 1 {
		return fail(exitUsage, "want one .sink file, got %d", len(files))
	}
	if *out == "" {
		return fail(exitUsage, "--out DIR is required: where to write the checkpoint")
	}
	dt, err := hf.ParseDType(*dtype)
	if err != nil {
		return fail(exitUsage, "--dtype: %v", err)
	}
	if *shards < 1 {
		return fail(exitUsage, "--shards must be >= 1")
	}
	exps, ok := compile(files, stderr)
	if !ok {
		return exitError
	}
	run, err := pickRun(exps, *runN, *id)
	if err != nil {
		return fail(exitUsage, "%s: %v", files[0], err)
	}
	name := fmt.Sprintf("%s run-%s", run.Experiment, run.ID())
	if run.Model.Checkpoint != "" && run.Train.Steps == 0 {
		return fail(exitError, "%s measures the checkpoint %s without training: that directory is its weights", name, run.Model.Checkpoint)
	}
	arch, err := exportArch(run)
	if err != nil {
		return fail(exitError, "%s: %v", name, err)
	}
	weights := runner.WeightsDir(*resultsDir, run)
	if _, err := os.Stat(filepath.Join(weights, "model.json")); err != nil {
		return fail(exitError, "%s: no kept weights in %s: train it with `sinkrun run --keep-weights --out %s %s` "+
			"(add --force if its results exist already: finished runs are skipped)", name, weights, *resultsDir, files[0])
	}
	m, err := loadKept(run, weights)
	if err != nil {
		return fail(exitError, "%s: %v", name, err)
	}
	param := func(path string) ([]float32, error) {
		v, _, err := m.Param(path)
		return v, err
	}
	if err := hf.Write(*out, arch, pretrained.Source(run.Model, arch, param), hf.WriteOptions{DType: dt, Shards: *shards}); err != nil {
		return fail(exitError, "%s: writing %s: %v", name, *out, err)
	}
	// Read it back: every header, name, dtype and shape as a loader sees them.
	if _, err := hf.Open(*out); err != nil {
		return fail(exitError, "%s: the written checkpoint does not read back: %v", name, err)
	}
	tok, err := copyTokenizer(run, *out)
	if err != nil {
		return fail(exitError, "%s: %v", name, err)
	}
	written, err := filepath.Glob(filepath.Join(*out, "*.safetensors"))
	if err != nil {
		return fail(exitError, "%s: %v", name, err)
	}
	fmt.Fprintf(stdout, "%s: wrote %s\n  %s\n  %s, %s parameters, %s\n  tokenizer: %s\n",
		name, *out, arch, dt, thousands(compiler.ParamCount(run.Model)), weightFiles(len(written)), tok)
	return exitOK
}

// pickRun finds the run to export: by its place in the plan (n, 1-based),
// by id (or a unique prefix), or the file's only run.
func pickRun(exps []*compiler.Experiment, n int, id string) (config.Run, error) {
	var all []config.Run
	for _, e := range exps {
		all = append(all, e.Runs...)
	}
	switch {
	case n != 0 && id != "":
		return config.Run{}, errors.New("--run and --id exclude each other")
	case n != 0:
		if n < 1 || n > len(all) {
			return config.Run{}, fmt.Errorf("--run %d: the file has runs 1 to %d (the # column of `sinkrun plan`)", n, len(all))
		}
		return all[n-1], nil
	case id != "":
		id = strings.TrimPrefix(id, "run-")
		var found []config.Run
		for _, r := range all {
			if strings.HasPrefix(r.ID(), id) {
				found = append(found, r)
			}
		}
		switch len(found) {
		case 1:
			return found[0], nil
		case 0:
			return config.Run{}, fmt.Errorf("--id %s: no run of the file has that id (`sinkrun plan` lists them)", id)
		}
		return config.Run{}, fmt.Errorf("--id %s: %d runs have ids starting so; give more of it", id, len(found))
	case len(all) == 1:
		return all[0], nil
	}
	return config.Run{}, fmt.Errorf("the file has %d runs: choose one with --run N (the # column of `sinkrun plan`) or --id RUNID", len(all))
}

// exportArch is the Hugging Face architecture of a run's model, with the
// run's dedicated tokens as the config's special tokens: a fixed (or BOS)
// first token as bos_token_id, an end-of-text separator as eos_token_id.
func exportArch(run config.Run) (hf.Arch, error) {
	a, err := pretrained.ArchFromModel(run.Model, run.Data.Context)
	if err != nil {
		return hf.Arch{}, err
	}
	if run.Data.FirstToken.Places() {
		a.BOS = run.Data.FirstToken.Token
	}
	if run.Data.Separator.Kind == "eot" {
		a.EOS = []int{run.Data.Separator.Token}
	}
	return a, nil
}

// loadKept builds the run's model on the default backend and loads the
// weights `sinkrun run --keep-weights` kept.
func loadKept(run config.Run, dir string) (*model.Model, error) {
	be, err := backend.Open(backend.Spec("", 0))
	if err != nil {
		return nil, err
	}
	m, err := model.New(be, run.Model, run.Train, run.Seed)
	if err != nil {
		return nil, fmt.Errorf("building the model: %w", err)
	}
	if err := m.Load(dir); err != nil {
		return nil, fmt.Errorf("loading the kept weights from %s: %w", dir, err)
	}
	return m, nil
}

// tokenizerFiles are the Hugging Face tokenizer files a bpe tokenizer
// directory may hold; those present are copied.
var tokenizerFiles = []string{"tokenizer.json", "vocab.json", "merges.txt", "added_tokens.json",
	"tokenizer_config.json", "special_tokens_map.json"}

// copyTokenizer copies the files of the run's bpe tokenizer into dir and
// says what the checkpoint's tokens are.
func copyTokenizer(run config.Run, dir string) (string, error) {
	d := run.Data
	switch {
	case d.Corpus.Kind == "bigram_backcopy":
		return "none: the ids are the synthetic bigram_backcopy chain's, no text", nil
	case d.Corpus.Kind == "tokens":
		return "none: the ids are those of the pre-tokenized token files the run read", nil
	case d.Tokenizer.Kind != "bpe":
		return "none: the ids are bytes (token i is byte i; ids from 256 on are the run's dedicated tokens)", nil
	}
	src := d.Tokenizer.Path
	if !filepath.IsAbs(src) {
		src = filepath.Join(run.SourceDir, src)
	}
	info, err := os.Stat(src)
	if err != nil {
		return "", fmt.Errorf("the run's tokenizer: %w", err)
	}
	type copy struct{ from, to string }
	var copies []copy
	srcDir := src
	if !info.IsDir() { // a tokenizer.json file under any name
		copies = append(copies, copy{src, "tokenizer.json"})
		srcDir = filepath.Dir(src)
	}
	for _, f := range tokenizerFiles {
		if !info.IsDir() && f == "tokenizer.json" {
			continue
		}
		p := filepath.Join(srcDir, f)
		if _, err := os.Stat(p); err == nil {
			copies = append(copies, copy{p, f})
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	var names []string
	for _, c := range copies {
		b, err := os.ReadFile(c.from)
		if err != nil {
			return "", fmt.Errorf("copying the tokenizer: %w", err)
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, c.to), b, 0o644); err != nil {
			return "", fmt.Errorf("copying the tokenizer: %w", err)
		}
		names = append(names, c.to)
	}
	return fmt.Sprintf("bpe from %s (copied %s)", src, strings.Join(names, ", ")), nil
}

// weightFiles names the weight files of a checkpoint of n safetensors files.
func weightFiles(n int) string {
	if n <= 1 {
		return hf.WeightsFile
	}
	return fmt.Sprintf("%d safetensors shards + %s", n, hf.IndexFile)
}
