package runner

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sinkrun/sinkrun/runtime/trainer"
)

// screen replays what a terminal of the given width shows for output that
// uses only \r, \n, ESC[2K (erase line) and ESC[1A (cursor up). A live line
// that wrapped would break the display's cursor arithmetic, and show here.
func screen(t *testing.T, out string, width int) []string {
	t.Helper()
	lines := [][]rune{nil}
	row, col := 0, 0
	for rest := out; rest != ""; {
		switch {
		case strings.HasPrefix(rest, "\x1b[2K"):
			lines[row] = nil
			rest = rest[4:]
			continue
		case strings.HasPrefix(rest, "\x1b[1A"):
			if row == 0 {
				t.Fatalf("cursor moved above the first line")
			}
			row--
			rest = rest[4:]
			continue
		case strings.HasPrefix(rest, "\x1b"):
			t.Fatalf("unexpected escape sequence %q", rest[:min(6, len(rest))])
		}
		r := []rune(rest)[0]
		rest = rest[len(string(r)):]
		switch r {
		case '\r':
			col = 0
		case '\n':
			row, col = row+1, 0
			if row == len(lines) {
				lines = append(lines, nil)
			}
		default:
			if col >= width { // the terminal wraps the line
				row, col = row+1, 0
				if row == len(lines) {
					lines = append(lines, nil)
				}
			}
			for len(lines[row]) <= col {
				lines[row] = append(lines[row], ' ')
			}
			lines[row][col] = r
			col++
		}
	}
	var s []string
	for _, l := range lines {
		s = append(s, strings.TrimRight(string(l), " "))
	}
	return s
}

func TestDisplayBar(t *testing.T) {
	var buf bytes.Buffer
	d := newDisplay(&buf, "bar")
	d.width = func() int { return 90 }
	d.batchLine = func(running int, _, _ time.Duration) string {
		return "batch: " + strings.Repeat("x", running) + strings.Repeat(" long", 40)
	}
	runs := compileSrc(t, grid)[0].Runs[:2]
	d.plan(runs, []int{0, 1})
	d.event("first event")
	d.start(0, "[1/2] run a")
	d.progress(0, trainer.Progress{Step: 5, Steps: 30, Loss: 2.5, TokensPerS: 12345, ETA: 3 * time.Second})
	d.start(1, "[2/2] run b")
	mid := screen(t, buf.String(), 90)
	if len(mid) != 4 || !strings.HasPrefix(mid[1], "[1/2] run a  ███░░") || !strings.Contains(mid[1], "step 5/30 loss 2.5000 12k tok/s ETA 3s") ||
		!strings.HasPrefix(mid[2], "[2/2] run b") || !strings.HasPrefix(mid[3], "batch: xx long") {
		t.Fatalf("screen while two runs train:\n%s", strings.Join(mid, "\n"))
	}
	d.progress(1, trainer.Progress{Step: 10, Steps: 30, Start: 7, Loss: 2.4})
	d.end(0)
	d.event("run a done")
	d.finished(0)
	d.end(1)
	d.event("run b done")
	d.finished(1)
	d.close()
	got := screen(t, buf.String(), 90)
	want := []string{"first event", "[2/2] run b: resumed from its checkpoint at step 7", "run a done", "run b done"}
	// The last batch line stays, in full (wrapped by the terminal).
	want = append(want, "batch: "+strings.Repeat(" long", 40))
	if len(got) < len(want) || strings.Join(got[:len(want)-1], "\n") != strings.Join(want[:len(want)-1], "\n") ||
		strings.Join(got[len(want)-1:], "") != want[len(want)-1] {
		t.Errorf("final screen:\n%s\nwant the events, then the batch line", strings.Join(got, "\n"))
	}
}

func TestDisplayLines(t *testing.T) {
	var buf bytes.Buffer
	d := newDisplay(&buf, "auto") // a buffer is not a terminal
	if d.bar {
		t.Fatal("bar mode on a buffer")
	}
	d.batchLine = func(running int, _, _ time.Duration) string { return "batch line" }
	d.plan(compileSrc(t, grid)[0].Runs[:1], []int{0})
	d.start(0, "[1/1] run")
	d.progress(0, trainer.Progress{Step: 1, Steps: 2, Loss: 3})
	d.progress(0, trainer.Progress{Step: 2, Steps: 2, Loss: 2})
	d.end(0)
	d.event("done")
	d.finished(0)
	d.close()
	want := "[1/1] run: step 2/2 loss 2.0000 0 tok/s\ndone\nbatch line\n"
	if buf.String() != want {
		t.Errorf("lines mode wrote\n%q\nwant\n%q", buf.String(), want)
	}
}

// TestNotTerminal: auto mode draws bars only on a terminal; /dev/null is a
// character device but not a terminal, and neither is a pipe or a file.
func TestNotTerminal(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, f := range map[string]*os.File{"/dev/null": devNull, "a pipe": w, "a file": file} {
		if isTerminal(f) {
			t.Errorf("%s is taken for a terminal", name)
		}
		if d := newDisplay(f, "auto"); d.bar {
			t.Errorf("auto mode draws bars on %s", name)
		}
	}
}
