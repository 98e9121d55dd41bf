package results

import (
	"strings"
	"testing"
)

func TestDocSections(t *testing.T) {
	doc := "intro\n" + StudyReport{"a", "| x | n |\n|---|---:|\n| 1 | 3/3 |\n| 2 | 2/3 |\n"}.Section() + "prose\n" +
		StudyReport{"b", "| x | n |\n|---|---:|\n| 1 | 0/3 |\n\n| claim | measured | verdict |\n|---|---|---|\n| `c` | — | not run |\n"}.Section()
	s, err := DocSections([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || !strings.HasPrefix(s["a"], "| x | n |\n") || !strings.HasSuffix(s["a"], "| 2 | 2/3 |\n") {
		t.Errorf("sections %q", s)
	}
	for name, want := range map[string]int{"a": 5, "b": 0} {
		if got := FinishedRuns(s[name]); got != want {
			t.Errorf("FinishedRuns(%s) = %d, want %d", name, got, want)
		}
	}
	// An agreement table counts its runs-finished column.
	if got := FinishedRuns("| e | **agrees** | 2/3 |\n| all 1 | 1 of 1 claims hold | 2/3 |\n"); got != 4 {
		t.Errorf("agreement table: %d", got)
	}
	if _, err := DocSections([]byte(beginMarker("a") + "\n")); err == nil {
		t.Error("a begin marker without its end was accepted")
	}
}
