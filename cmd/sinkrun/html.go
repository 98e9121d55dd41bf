package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/results/htmlreport"
)

// livePage keeps the HTML report of a batch current (`run --html FILE`):
// it is written when the batch starts, again after runs finish (in the
// background, so training never waits for it; at most every livePageGap,
// and never more than a fifth of the time: drawing a large grid's figures
// takes seconds of the cores the runs train on), and
// once more when the batch ends, without the reload that pages written
// during the batch ask browsers for.
type livePage struct {
	path, dir string
	exps      []*compiler.Experiment
	log       io.Writer

	mu      sync.Mutex
	dirty   bool
	writing bool
	last    time.Time     // when the last write started
	took    time.Duration // how long it took
	done    sync.WaitGroup
}

const (
	livePageGap     = 5 * time.Second  // least time between two writes during a batch
	livePageRefresh = 30 * time.Second // how often a browser reloads a page written during a batch
)

func newLivePage(path, dir string, exps []*compiler.Experiment, log io.Writer) *livePage {
	return &livePage{path: path, dir: dir, exps: exps, log: log}
}

// changed notes that a run's results were written; the page is rewritten
// soon after.
func (p *livePage) changed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dirty = true
	if p.writing {
		return // the writer goes round again
	}
	p.writing = true
	p.done.Add(1)
	go p.writeLoop()
}

func (p *livePage) writeLoop() {
	defer p.done.Done()
	for {
		p.mu.Lock()
		if !p.dirty {
			p.writing = false
			p.mu.Unlock()
			return
		}
		wait := max(livePageGap, 5*p.took) - time.Since(p.last)
		p.mu.Unlock()
		if wait > 0 {
			time.Sleep(wait)
		}
		p.mu.Lock()
		p.dirty = false
		p.last = time.Now()
		p.mu.Unlock()
		p.write(livePageRefresh)
		p.mu.Lock()
		p.took = time.Since(p.last)
		p.mu.Unlock()
	}
}

// write writes the page now; refresh > 0 asks browsers to reload it.
func (p *livePage) write(refresh time.Duration) {
	if err := htmlreport.WriteFile(p.path, p.dir, p.exps, htmlreport.Options{Refresh: refresh}); err != nil {
		fmt.Fprintf(p.log, "sinkrun run: writing %s: %v\n", p.path, err)
	}
}

// finish waits for a write in flight and writes the final page.
func (p *livePage) finish() {
	p.done.Wait()
	p.write(0)
}
