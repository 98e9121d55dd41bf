package main

import (
	binenc "encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/results/table"
)

// TestExportMeasureRoundTrip: for every kind of data, a model sinkrun
// trained and exported (`sinkrun run --keep-weights`, `sinkrun export`) is
// measured back with `model { checkpoint DIR }` on its own data, and
// measures what the run measured at its end: the same validation loss and
// Sink_1. Synthetic and pre-tokenized ids need no tokenizer files, a BPE
// run's tokenizer travels with the checkpoint, and a byte-level run reads
// bytes when the file says so; without that, the message says what to add.
func TestExportMeasureRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four small models")
	}
	dir := t.TempDir()
	text := filepath.Join(dir, "text.txt")
	var words strings.Builder
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := []string{"the", "sink", "token", "attention", "head", "layer", "first", "model", "of", "a"}
	for words.Len() < 60_000 {
		words.WriteString(vocab[rng.IntN(len(vocab))])
		words.WriteByte(" \n"[rng.IntN(2)])
	}
	if err := os.WriteFile(text, []byte(words.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := make([]byte, 2*40_000)
	for i := 0; i < len(ids); i += 2 {
		binenc.LittleEndian.PutUint16(ids[i:], uint16(rng.IntN(32)))
	}
	bin := filepath.Join(dir, "train.bin")
	if err := os.WriteFile(bin, ids, 0o644); err != nil {
		t.Fatal(err)
	}
	tok := filepath.Join(dir, "tok")
	if code, _, stderr := runCLI("tokenizer", "train", "--vocab", "290", "--out", tok, text); code != exitOK {
		t.Fatalf("tokenizer train: exit %d\n%s", code, stderr)
	}

	for _, tc := range []struct {
		name string
		data string // the data block's body, trained and measured
		back string // added to the data of the measuring file
	}{
		{"bigram_backcopy", `corpus bigram_backcopy(vocab: 16, triggers: 2); first_token fixed(token: 16)`, ""},
		{"tokens", fmt.Sprintf(`corpus tokens(paths: [%q], vocab: 32)`, bin), ""},
		{"bytes", fmt.Sprintf(`corpus files(paths: [%q])`, text), "tokenizer bytes"},
		{"bpe", fmt.Sprintf(`corpus files(paths: [%q]); tokenizer bpe(path: %q)`, text, tok), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := filepath.Join(dir, tc.name)
			train := writeFile(t, filepath.Join(sub, "train.sink"), fmt.Sprintf(`experiment trained {
  model { layers 1; heads 2; d_model 16 }
  data { %s; context 16 }
  train { steps 40; batch 4 }
  measure { probe_sequences 8; probe_length 16; val_batches 2 }
}
`, tc.data))
			res, ckpt := filepath.Join(sub, "res"), filepath.Join(sub, "hf")
			if code, _, stderr := runCLI("run", train, "--out", res, "--keep-weights", "--progress", "lines"); code != exitOK {
				t.Fatalf("run: exit %d\n%s", code, stderr)
			}
			code, stdout, stderr := runCLI("export", train, "--results", res, "--out", ckpt)
			if code != exitOK {
				t.Fatalf("export: exit %d\n%s", code, stderr)
			}
			t.Log(strings.TrimSpace(stdout))
			// The measuring file: the checkpoint, the same data.
			backData := strings.Replace(tc.data, fmt.Sprintf("; tokenizer bpe(path: %q)", tok), "", 1)
			if tc.back != "" {
				backData += "; " + tc.back
			}
			back := writeFile(t, filepath.Join(sub, "back.sink"), fmt.Sprintf(`experiment measured {
  model { checkpoint %q }
  data { %s; context 16 }
  train { batch 4 }
  measure { probe_sequences 8; probe_length 16; val_batches 2 }
}
`, ckpt, backData))
			backRes := filepath.Join(sub, "back")
			if code, _, stderr := runCLI("run", back, "--out", backRes, "--progress", "lines"); code != exitOK {
				t.Fatalf("measuring the export: exit %d\n%s", code, stderr)
			}
			trained, measured := onlyRun(t, res), onlyRun(t, backRes)
			if measured.Status != table.StatusDone || math.Abs(measured.Final("final_val_loss").Value-trained.Final("final_val_loss").Value) > 1e-5 ||
				measured.Final("final_sink1").Value != trained.Final("final_sink1").Value {
				t.Errorf("measured back: %s, val loss %.6f, Sink_1 %.2f%%; the run ended at val loss %.6f, Sink_1 %.2f%%",
					measured.Status, measured.Final("final_val_loss").Value, measured.Final("final_sink1").Value, trained.Final("final_val_loss").Value, trained.Final("final_sink1").Value)
			}
			if tc.back == "" {
				return
			}
			// Without `tokenizer bytes`, text is read with the checkpoint's
			// tokenizer, which it lacks: the message says what to add.
			bare := writeFile(t, filepath.Join(sub, "bare.sink"), strings.Replace(readFile(t, back), "; "+tc.back, "", 1))
			code, _, stderr = runCLI("check", bare)
			for _, want := range []string{"holds neither tokenizer.json nor vocab.json and merges.txt", "copy its tokenizer.json (or vocab.json and merges.txt) into",
				"data { tokenizer bytes }"} {
				if code != exitError || !strings.Contains(stderr, want) {
					t.Errorf("a byte-level export read as text without a tokenizer: exit %d, want a message with %q:\n%s", code, want, stderr)
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func onlyRun(t *testing.T, dir string) table.Run {
	t.Helper()
	runs, err := table.ReadRuns(dir)
	if err != nil || len(runs) != 1 {
		t.Fatalf("%s: %d runs (%v), want 1", dir, len(runs), err)
	}
	return runs[0]
}
