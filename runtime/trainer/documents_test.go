package trainer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/results/table"
)

// TestDocumentAttentionRun trains a run on packed short documents with
// data.document_attention within: it finishes, its probe maps (sequence 0)
// hold no key of another document, and it records other numbers than the
// same run with attention across documents.
func TestDocumentAttentionRun(t *testing.T) {
	dir := t.TempDir()
	var docs strings.Builder
	for i := range 400 {
		fmt.Fprintf(&docs, "{\"text\": %q}\n", strings.Repeat(string(rune('a'+i%7)), 3+i%5)+" end")
	}
	path := filepath.Join(dir, "docs.jsonl")
	if err := os.WriteFile(path, []byte(docs.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := func(attend string) string {
		return fmt.Sprintf(`experiment packed {
  model { layers 1; heads 2; d_model 16 }
  data {
    corpus jsonl(paths: [%q])
    separator eot
    document_attention %s
    context 16
  }
  train { steps 20; batch 4 }
  measure { every 10; probe_sequences 4; probe_length 16; val_batches 2 }
}`, path, attend)
	}
	got := map[string]Result{}
	for _, attend := range []string{"within", "across"} {
		run, ds, opts := setup(t, src(attend))
		res, err := Train(context.Background(), run, ds, opts)
		if err != nil || res.Run.Status != table.StatusDone {
			t.Fatalf("%s: %v %s %s", attend, err, res.Run.Status, res.Run.Error)
		}
		got[attend] = res
	}
	// Sequence 0 of the probe: its tokens' documents, from the eot (256).
	run, ds, _ := setup(t, src("within"))
	probe, err := ds.ProbeFor(run.Measure)
	if err != nil {
		t.Fatal(err)
	}
	doc, idx := int32(0), make([]int32, 16)
	for i, tok := range probe[:16] {
		if tok == 256 {
			doc++
		}
		idx[i] = doc
	}
	if doc == 0 {
		t.Fatalf("probe sequence 0 holds one document (%v): the test needs a boundary", probe[:16])
	}
	crossed := 0
	for _, m := range got["within"].Maps {
		if m.Key >= 0 && idx[m.Key] != idx[m.Query] {
			crossed++
		}
	}
	if crossed > 0 {
		t.Errorf("%d map rows give a query another document's key", crossed)
	}
	if len(got["within"].Maps) >= len(got["across"].Maps) {
		t.Errorf("within has %d map rows, across %d: want fewer", len(got["within"].Maps), len(got["across"].Maps))
	}
	if got["within"].Run.Final("final_val_loss").Value == got["across"].Run.Final("final_val_loss").Value {
		t.Error("the document mask changes nothing in training")
	}
}
