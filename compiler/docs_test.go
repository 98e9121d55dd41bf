package compiler

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/dsl"
)

var update = flag.Bool("update", false, "rewrite the generated section of docs/dsl.md")

const (
	docPath    = "../docs/dsl.md"
	beginMark  = "<!-- BEGIN GENERATED -->"
	endMark    = "<!-- END GENERATED -->"
	regenerate = "go test ./compiler -run TestReferenceDocs -update  (or SINKRUN_UPDATE_DOCS=1)"
)

// TestReferenceDocs fails when the key reference in docs/dsl.md is out of
// date with config.Schema(). Regenerate with -update or SINKRUN_UPDATE_DOCS=1.
func TestReferenceDocs(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, beginMark), strings.Index(doc, endMark)
	if i < 0 || j < i {
		t.Fatalf("%s: markers %s and %s not found", docPath, beginMark, endMark)
	}
	want := "\n" + ReferenceMarkdown()
	if doc[i+len(beginMark):j] == want {
		return
	}
	if *update || os.Getenv("SINKRUN_UPDATE_DOCS") != "" {
		doc = doc[:i+len(beginMark)] + want + doc[j:]
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", docPath)
		return
	}
	t.Errorf("%s is out of date with config.Schema(); run: %s", docPath, regenerate)
}

// TestDocExamplesCompile compiles every ```sink block of docs/dsl.md that is
// not marked as an error example, and checks that it is formatted
// (dsl.Format leaves it unchanged). A block whose first line is
// "# file: NAME" is the file NAME, which the other blocks may import.
func TestDocExamplesCompile(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(raw), "```sink\n")
	files := map[string][]byte{}
	var order []string
	for k, p := range parts[1:] {
		body := p[:strings.Index(p, "```")]
		if strings.Contains(body, "### error") {
			continue
		}
		name := fmt.Sprintf("example%d.sink", k+1)
		if first, _, _ := strings.Cut(body, "\n"); strings.HasPrefix(first, "# file: ") {
			name = strings.TrimPrefix(first, "# file: ")
		}
		files[name] = []byte(body)
		order = append(order, name)
		if out, err := dsl.Format(name, []byte(body)); err == nil && string(out) != body {
			t.Errorf("example %d (%s) in docs/dsl.md is not formatted; sinkrun fmt gives:\n%s", k+1, name, out)
		}
	}
	if len(order) == 0 {
		t.Error("no examples found")
	}
	for _, name := range order {
		if _, err := compileMap(files, []string{name}); err != nil {
			t.Errorf("example %s in docs/dsl.md does not compile:\n%s", name, FormatErrors(err, nil))
		}
	}
}
