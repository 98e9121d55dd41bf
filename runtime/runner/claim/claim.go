// Package claim lets any number of workers (processes on one machine or on
// many, sharing a file system) divide work among themselves without a
// coordinator: a worker claims an item by creating a file, keeps the claim
// alive by rewriting it while it works, and removes it when done. A claim
// whose file has not been rewritten for a lease is stale — its worker died,
// was killed or lost the file system — and another worker may take it over.
//
// Exclusion rests on O_EXCL file creation, which local file systems and NFS
// v3 and later honour. Each item's claims are numbered: the first worker
// creates <name>.0.claim; a worker that finds claim g stale creates
// <name>.<g+1>.claim. Of several workers that try to take over the same
// stale claim, exactly one creates the next number; the others find it
// there, fresh. The worker that held claim g learns at its next refresh that
// it lost the item (its file is gone or a higher number exists).
//
// Staleness is judged by the file system's clock, not the worker's: a claim's
// age is the modification time of the worker's own clock file, rewritten just
// before, minus the claim's modification time. Both times are set by the file
// server (NFS sets a file's mtime on WRITE), so clocks that differ between
// machines do not matter. Attribute caching (NFS caches a file's mtime for up
// to a minute by default) delays what a worker sees: the lease must be well
// above the refresh interval plus that delay.
package claim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultLease is the lease when none is given: long enough for NFS
// attribute caching and for a worker whose machine is busy, short enough
// that a dead worker's item is taken over within minutes.
const DefaultLease = 5 * time.Minute

// MinLease is the shortest lease accepted: below it, a busy machine's
// refreshes may come too late and live workers would lose their items.
const MinLease = 3 * time.Second

// refreshes is how many times per lease a claim is rewritten.
const refreshes = 6

const suffix = ".claim"

// A Board is one worker's view of a claims directory. Its methods may be
// called from several goroutines.
type Board struct {
	dir   string
	lease time.Duration
	who   []byte // this worker, as written into its claim files
	clock *os.File

	mu       sync.Mutex
	fsNow    time.Time // the file system's time when last read,
	measured time.Time // at this local (monotonic) time
}

// Open opens the claims directory dir (creating it) for a worker with the
// given lease (0 = DefaultLease). Close removes the worker's clock file.
func Open(dir string, lease time.Duration) (*Board, error) {
	if lease == 0 {
		lease = DefaultLease
	}
	if lease < MinLease {
		return nil, fmt.Errorf("claim lease %v: want at least %v", lease, MinLease)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	token := make([]byte, 8)
	if _, err := rand.Read(token); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	host, _ := os.Hostname()
	who := fmt.Sprintf("%s pid %d (%s)\n", host, os.Getpid(), hex.EncodeToString(token))
	clock, err := os.OpenFile(filepath.Join(dir, ".clock-"+hex.EncodeToString(token)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return &Board{dir: dir, lease: lease, who: []byte(who), clock: clock}, nil
}

// Lease is the time after which a claim not refreshed is stale.
func (b *Board) Lease() time.Duration { return b.lease }

// Close removes the worker's clock file. Claims still held stay (and
// become stale).
func (b *Board) Close() error {
	b.clock.Close()
	return os.Remove(b.clock.Name())
}

// now is the file system's current time: the mtime of the worker's clock
// file after a write. Clocks differ by an offset, not by their pace, so a
// reading is carried forward on the local monotonic clock for a while
// instead of costing a synced write per claim looked at.
func (b *Board) now() (time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.measured.IsZero() && time.Since(b.measured) < b.lease/refreshes {
		return b.fsNow.Add(time.Since(b.measured)), nil
	}
	if err := touch(b.clock, b.who); err != nil {
		return time.Time{}, fmt.Errorf("claims clock: %w", err)
	}
	fi, err := b.clock.Stat()
	if err != nil {
		return time.Time{}, fmt.Errorf("claims clock: %w", err)
	}
	b.fsNow, b.measured = fi.ModTime(), time.Now()
	return b.fsNow, nil
}

// touch rewrites a file's content in place, which sets its mtime to the file
// system's clock; readers never see a partial content, as the bytes are the
// ones already there.
func touch(f *os.File, content []byte) error {
	if _, err := f.WriteAt(content, 0); err != nil {
		return err
	}
	return f.Sync() // NFS: send the write now, so the server sets the mtime now
}

// HeldError says that another live worker holds the item.
type HeldError struct {
	Name   string
	Holder string        // who holds it: host, pid and token
	Age    time.Duration // since its last refresh
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is claimed by %s (refreshed %v ago)", e.Name, e.Holder, e.Age.Round(time.Second))
}

// Take claims the item name (a slash-separated path under the claims
// directory, e.g. "experiment=x/run-abc"): it returns the claim, kept alive
// until Release, or a *HeldError when another live worker holds it. A stale
// claim is taken over; Claim.From then says from whom.
func (b *Board) Take(name string) (*Claim, error) {
	base := filepath.Join(b.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	// A claim may be released or taken between the listing and the
	// creation: then look again, a few times.
	const rounds = 4
	for round := 1; ; round++ {
		gens, err := list(base)
		if err != nil {
			return nil, err
		}
		next := 0
		var from string
		if len(gens) > 0 {
			top := gens[len(gens)-1]
			held, err := b.held(name, path(base, top))
			switch {
			case errors.Is(err, fs.ErrNotExist) && round < rounds:
				continue // released since the listing
			case err != nil:
				return nil, fmt.Errorf("claims: %w", err)
			case held.Age <= b.lease:
				return nil, held
			}
			next, from = top+1, held.Holder
		}
		c, err := b.create(name, base, next)
		if errors.Is(err, fs.ErrExist) && round < rounds {
			continue // another worker was faster: see whom
		}
		if err != nil {
			return nil, fmt.Errorf("claims: %w", err)
		}
		c.From = from
		// The claims this one replaces: their holders find theirs gone.
		for _, g := range gens {
			os.Remove(path(base, g))
		}
		return c, nil
	}
}

// held describes the claim in file p.
func (b *Board) held(name, p string) (*HeldError, error) {
	now, err := b.now()
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	who, _ := os.ReadFile(p) // a claim being created may still be empty
	holder := strings.TrimSpace(string(who))
	if holder == "" {
		holder = "a worker starting up"
	}
	return &HeldError{Name: name, Holder: holder, Age: now.Sub(fi.ModTime())}, nil
}

// create makes claim number gen of the item, failing with fs.ErrExist when
// another worker made it first.
func (b *Board) create(name, base string, gen int) (*Claim, error) {
	p := path(base, gen)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	err = touch(f, b.who)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
		return nil, err
	}
	c := &Claim{Name: name, board: b, base: base, gen: gen, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go c.keep()
	return c, nil
}

// list returns the claim numbers of the item at base, ascending.
func list(base string) ([]int, error) {
	entries, err := os.ReadDir(filepath.Dir(base))
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	prefix := filepath.Base(base) + "."
	var gens []int
	for _, e := range entries {
		n, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		if n, ok = strings.CutSuffix(n, suffix); !ok {
			continue
		}
		if g, err := strconv.Atoi(n); err == nil && g >= 0 {
			gens = append(gens, g)
		}
	}
	sort.Ints(gens)
	return gens, nil
}

func path(base string, gen int) string { return base + "." + strconv.Itoa(gen) + suffix }

// A Claim is an item held by this worker.
type Claim struct {
	Name string
	From string // the worker whose stale claim this one took over ("" if none)

	board *Board
	base  string
	gen   int

	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	warnMu   sync.Mutex
	warn     error
}

// Number is the claim's number: 0 for a first claim, n+1 for one that took
// claim n over.
func (c *Claim) Number() int { return c.gen }

// Lost is closed when another worker has taken the item over: this worker
// stalled for longer than the lease (or lost the file system) and must
// drop the item without writing anything for it.
func (c *Claim) Lost() <-chan struct{} { return c.lost }

// IsLost reports whether Lost is closed.
func (c *Claim) IsLost() bool {
	select {
	case <-c.lost:
		return true
	default:
		return false
	}
}

// keep refreshes the claim until Release, and closes lost when the claim is
// gone or superseded.
func (c *Claim) keep() {
	defer close(c.done)
	tick := time.NewTicker(c.board.lease / refreshes)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		switch err := c.refresh(); {
		case errors.Is(err, errLost):
			c.lostOnce.Do(func() { close(c.lost) })
			return
		case err != nil:
			// A file system hiccup: the next refresh may succeed, and
			// the lease leaves room for several misses.
			c.warnMu.Lock()
			c.warn = err
			c.warnMu.Unlock()
		}
	}
}

var errLost = errors.New("claim lost")

// refresh rewrites the claim file, or reports errLost.
func (c *Claim) refresh() error {
	gens, err := list(c.base)
	if err != nil {
		return err
	}
	if len(gens) > 0 && gens[len(gens)-1] > c.gen {
		return errLost
	}
	f, err := os.OpenFile(path(c.base, c.gen), os.O_WRONLY, 0) // never re-create a removed claim
	if errors.Is(err, fs.ErrNotExist) {
		return errLost
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return touch(f, c.board.who)
}

// Check refreshes the claim now and reports whether it is still this
// worker's; call it before writing the item's results.
func (c *Claim) Check() bool {
	if c.IsLost() {
		return false
	}
	if errors.Is(c.refresh(), errLost) {
		c.lostOnce.Do(func() { close(c.lost) })
		return false
	}
	return true
}

// Release stops refreshing the claim and removes it (unless it was lost, or
// its file now belongs to another worker). It returns the last refresh error,
// if any refresh failed.
func (c *Claim) Release() error {
	close(c.stop)
	<-c.done
	if !c.IsLost() {
		p := path(c.base, c.gen)
		// A lost claim's number may have been reused after the item was
		// released by its new holder: remove only our own file.
		if who, err := os.ReadFile(p); err == nil && bytes.Equal(who, c.board.who) {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("claims: %w", err)
			}
		}
	}
	c.warnMu.Lock()
	defer c.warnMu.Unlock()
	return c.warn
}
