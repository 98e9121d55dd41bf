package compiler

import (
	"flag"
	"os"
	"strings"
	"testing"
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
// not marked as an error example.
func TestDocExamplesCompile(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(raw), "```sink\n")
	n := 0
	for k, p := range parts[1:] {
		body := p[:strings.Index(p, "```")]
		if strings.Contains(body, "### error") {
			continue
		}
		n++
		if _, err := Compile(map[string][]byte{"example.sink": []byte(body)}); err != nil {
			t.Errorf("example %d in docs/dsl.md does not compile:\n%s", k+1, FormatErrors(err, map[string][]byte{"example.sink": []byte(body)}))
		}
	}
	if n == 0 {
		t.Error("no examples found")
	}
}
