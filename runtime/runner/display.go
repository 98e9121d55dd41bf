package runner

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/runtime/trainer"
)

// display writes a batch's progress. Events (a run starts, ends, is
// skipped) are permanent lines in both modes. On a terminal ("bar" mode) the
// lines below them are redrawn in place, at most 10 times a second: one bar
// per run in flight (step, loss, tokens/s, ETA) and the batch line. Otherwise
// ("lines" mode, for CI and Slurm logs) each run in flight logs a progress
// line every 10 seconds (less often as it goes on) and the batch line
// follows every finished run.
type display struct {
	mu        sync.Mutex
	w         io.Writer
	bar       bool
	width     func() int
	batchLine func(running int, elapsed, eta time.Duration) string
	began     time.Time

	live     map[int]*liveRun // runs in flight, by batch index
	cost     map[int]runCost  // runs to train, for the batch ETA
	drawn    int              // lines of the live area on screen
	lastDraw time.Time
}

type liveRun struct {
	label    string
	p        trainer.Progress
	lastLine time.Time
	resumed  bool
}

// runCost is what a run to train costs, and how far it got in this process.
type runCost struct {
	flopsPerStep     float64
	steps, start, at int
}

const (
	lineEvery    = 10 * time.Second       // lines mode: least progress line interval per run
	maxLineEvery = 5 * time.Minute        // lines mode: most
	drawEvery    = 100 * time.Millisecond // bar mode: redraw interval
)

func newDisplay(w io.Writer, mode string) *display {
	d := &display{w: w, live: map[int]*liveRun{}, cost: map[int]runCost{}, began: time.Now(), width: func() int { return 0 }}
	switch mode {
	case "bar":
		d.bar = true
	case "lines":
	default:
		d.bar = isTerminal(w)
	}
	if f, ok := w.(*os.File); ok && d.bar {
		d.width = func() int {
			width, _, err := term.GetSize(int(f.Fd()))
			if err != nil {
				return 0 // unknown: drawLive assumes 100 columns
			}
			return width
		}
	}
	d.batchLine = func(int, time.Duration, time.Duration) string { return "" }
	return d
}

// isTerminal reports whether w is a terminal that can move the cursor. (A
// character device is not enough: /dev/null is one.)
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && os.Getenv("TERM") != "dumb" && term.IsTerminal(int(f.Fd()))
}

// plan records the runs to train (indices into the batch), for the batch ETA.
func (d *display) plan(runs []config.Run, idx []int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.began = time.Now()
	for k, r := range runs {
		c := runCost{steps: r.Train.Steps}
		if r.Train.Steps > 0 {
			c.flopsPerStep = compiler.TrainFLOPs(r) / float64(r.Train.Steps)
		}
		d.cost[idx[k]] = c
	}
}

// event writes a permanent line.
func (d *display) event(line string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clearLive()
	fmt.Fprintln(d.w, line)
	d.drawLive()
}

func (d *display) start(i int, label string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.live[i] = &liveRun{label: label, lastLine: time.Now()}
	d.redraw(true)
}

func (d *display) progress(i int, p trainer.Progress) {
	d.mu.Lock()
	defer d.mu.Unlock()
	lr := d.live[i]
	if lr == nil {
		return
	}
	lr.p = p
	if c, ok := d.cost[i]; ok {
		c.start, c.at = p.Start, p.Step
		d.cost[i] = c
	}
	if p.Start > 0 && !lr.resumed {
		lr.resumed = true
		d.clearLive()
		fmt.Fprintf(d.w, "%s: resumed from its checkpoint at step %d\n", lr.label, p.Start)
		d.drawLive()
	}
	if d.bar {
		d.redraw(false)
		return
	}
	// Every 10 s at first, then a tenth of the time so far (at most every
	// 5 minutes): a long run's log stays short.
	gap := min(max(lineEvery, p.Elapsed/10), maxLineEvery)
	if time.Since(lr.lastLine) >= gap || p.Step == p.Steps {
		lr.lastLine = time.Now()
		fmt.Fprintf(d.w, "%s: %s\n", lr.label, progressText(p))
	}
}

// end removes a run from the live area.
func (d *display) end(i int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.live, i)
	d.redraw(true)
}

// finished notes that run i ended (done, diverged or failed); in lines mode
// the batch line follows.
func (d *display) finished(i int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.cost[i]; ok {
		c.at = c.steps
		d.cost[i] = c
	}
	if !d.bar {
		fmt.Fprintln(d.w, d.batchLine(len(d.live), time.Since(d.began), d.eta()))
	}
	d.redraw(true)
}

// close leaves the live area's last state on screen.
func (d *display) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar {
		d.clearLive()
		fmt.Fprintln(d.w, d.batchLine(0, time.Since(d.began), 0))
	}
}

// eta extrapolates the work left at this process's pace so far, counting
// work as training FLOPs (so a run twice as large counts twice).
func (d *display) eta() time.Duration {
	var done, left float64
	for _, c := range d.cost {
		done += float64(c.at-c.start) * c.flopsPerStep
		left += float64(c.steps-c.at) * c.flopsPerStep
	}
	el := time.Since(d.began)
	if done <= 0 || left <= 0 || el < time.Second {
		return 0
	}
	return time.Duration(float64(el) * left / done)
}

func (d *display) redraw(force bool) {
	if !d.bar || (!force && time.Since(d.lastDraw) < drawEvery) {
		return
	}
	d.clearLive()
	d.drawLive()
}

// clearLive erases the live area; the cursor ends at the start of its first line.
func (d *display) clearLive() {
	if !d.bar || d.drawn == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("\r\x1b[2K")
	for k := 1; k < d.drawn; k++ {
		b.WriteString("\x1b[1A\x1b[2K")
	}
	io.WriteString(d.w, b.String())
	d.drawn = 0
}

// drawLive draws the live area below the cursor, without a final newline.
func (d *display) drawLive() {
	if !d.bar {
		return
	}
	d.lastDraw = time.Now()
	width := d.width()
	if width <= 0 {
		width = 100
	}
	// Labels are padded to the longest, so that the bars line up.
	pad := 0
	for _, lr := range d.live {
		pad = max(pad, utf8.RuneCountInString(lr.label))
	}
	var lines []string
	for _, i := range slices.Sorted(maps.Keys(d.live)) {
		lr := d.live[i]
		label := lr.label + strings.Repeat(" ", pad-utf8.RuneCountInString(lr.label))
		lines = append(lines, label+"  "+barText(lr.p, 20)+"  "+progressText(lr.p))
	}
	if line := d.batchLine(len(d.live), time.Since(d.began), d.eta()); line != "" {
		lines = append(lines, line)
	}
	for k, l := range lines {
		lines[k] = truncate(l, width-1)
	}
	io.WriteString(d.w, strings.Join(lines, "\n"))
	d.drawn = len(lines)
}

func progressText(p trainer.Progress) string {
	if p.Steps == 0 {
		return "starting"
	}
	// The sink figure before the loss: a narrow terminal cuts lines short.
	s := fmt.Sprintf("step %d/%d%s loss %.4f %s tok/s", p.Step, p.Steps, sinkText(p), p.Loss, siText(p.TokensPerS))
	if p.Step < p.Steps {
		s += " ETA " + roundDur(p.ETA).String()
	}
	return s
}

// sinkText is the latest measurement's sink figure: " Sink_1 95.0%", with
// Sink* for a model with a slot, "*" marking a proxy score; "" before the
// first measurement.
func sinkText(p trainer.Progress) string {
	if !p.Measured {
		return ""
	}
	proxy := ""
	if p.SinkProxy {
		proxy = "*"
	}
	s := ""
	if !math.IsNaN(p.SinkSlot) {
		s += fmt.Sprintf(" Sink* %.1f%%%s", p.SinkSlot, proxy)
	}
	if !math.IsNaN(p.Sink1) {
		s += fmt.Sprintf(" Sink_1 %.1f%%%s", p.Sink1, proxy)
	}
	return s
}

func barText(p trainer.Progress, n int) string {
	frac := 0.0
	if p.Steps > 0 {
		frac = float64(p.Step) / float64(p.Steps)
	}
	full := int(frac * float64(n))
	return strings.Repeat("█", full) + strings.Repeat("░", n-full) + fmt.Sprintf(" %3.0f%%", 100*frac)
}

func siText(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// truncate cuts s to at most n runes, so a line never wraps (a wrapped line
// would break the cursor arithmetic of the live area).
func truncate(s string, n int) string {
	if n < 1 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
