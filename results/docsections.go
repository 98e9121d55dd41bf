package results

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// span is a marked section of a document, markers included: doc[from:to].
type span struct{ from, to int }

// sectionSpans finds the marked sections of doc by name. Markers must pair
// up: a begin without its end, an end without its begin, or a name marked
// twice is an error.
func sectionSpans(doc []byte) (map[string]span, error) {
	spans := map[string]span{}
	open := ""
	var start int
	for _, m := range markerRe.FindAllSubmatchIndex(doc, -1) {
		kind, exp := string(doc[m[2]:m[3]]), string(doc[m[4]:m[5]])
		switch {
		case kind == "begin" && open == "":
			open, start = exp, m[0]
		case kind == "end" && exp == open:
			end := m[1]
			if end < len(doc) && doc[end] == '\n' {
				end++
			}
			if _, dup := spans[exp]; dup {
				return nil, fmt.Errorf("results: the report of %s is marked twice", exp)
			}
			spans[exp] = span{start, end}
			open = ""
		default:
			return nil, fmt.Errorf("results: unpaired report marker %q at byte %d", doc[m[0]:m[1]], m[0])
		}
	}
	if open != "" {
		return nil, fmt.Errorf("results: %s has no end marker", beginMarker(open))
	}
	return spans, nil
}

// DocSections is the Markdown of every marked section of doc, by name,
// without its markers: what UpdateDoc would replace.
func DocSections(doc []byte) (map[string]string, error) {
	spans, err := sectionSpans(doc)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(spans))
	for name, sp := range spans {
		text := string(doc[sp.from:sp.to])
		text = strings.TrimPrefix(text, beginMarker(name)+"\n")
		text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), endMarker(name))
		out[name] = text
	}
	return out, nil
}

// finishedCell is the last cell of a table row that counts finished runs:
// "| 3/3 |" (a study table's n, an agreement table's runs finished).
var finishedCell = regexp.MustCompile(`(?m)\|\s*(\d+)/\d+\s*\|\s*$`)

// FinishedRuns counts the finished runs a generated section reports: the
// sum of the "k/N" cells that end its table rows. A section of a study
// whose runs have not finished (or of a results directory without them)
// counts 0; the same section from the full results counts every run.
func FinishedRuns(markdown string) int {
	n := 0
	for _, m := range finishedCell.FindAllStringSubmatch(markdown, -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
	}
	return n
}
