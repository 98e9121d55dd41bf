package claim

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, dir string, lease time.Duration) *Board {
	t.Helper()
	b, err := Open(dir, lease)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// age makes a claim file look last refreshed d ago.
func age(t *testing.T, dir, name string, gen int, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(path(filepath.Join(dir, name), gen), old, old); err != nil {
		t.Fatal(err)
	}
}

func TestTakeHoldRelease(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir, time.Hour), open(t, dir, time.Hour)
	c, err := a.Take("experiment=x/run-1")
	if err != nil || c.From != "" {
		t.Fatalf("first take: %v, from %q", err, c.From)
	}
	var held *HeldError
	if _, err := b.Take("experiment=x/run-1"); !errors.As(err, &held) || held.Holder != string(a.who[:len(a.who)-1]) || held.Age > time.Minute {
		t.Fatalf("second worker: %v; want it held by %q, fresh", err, a.who)
	}
	if _, err := b.Take("experiment=x/run-2"); err != nil {
		t.Errorf("another item: %v", err)
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	c2, err := b.Take("experiment=x/run-1")
	if err != nil || c2.From != "" {
		t.Fatalf("after release: %v", err)
	}
	c2.Release()
	if gens, _ := list(filepath.Join(dir, "experiment=x", "run-1")); len(gens) != 0 {
		t.Errorf("claims left after release: %v", gens)
	}
}

// TestStaleTakenOver: a claim not refreshed for longer than the lease (its
// worker died) is taken over, and its holder, should it come back, learns
// that it lost the item and does not remove the new holder's claim.
func TestStaleTakenOver(t *testing.T) {
	dir := t.TempDir()
	// The first worker refreshes once an hour; the second judges with a
	// 3 s lease, so the first looks dead once its file is 10 s old.
	dead, live := open(t, dir, time.Hour), open(t, dir, MinLease)
	old, err := dead.Take("run-1")
	if err != nil {
		t.Fatal(err)
	}
	age(t, dir, "run-1", 0, 10*time.Second)
	c, err := live.Take("run-1")
	if err != nil {
		t.Fatalf("taking over a stale claim: %v", err)
	}
	if c.From != string(dead.who[:len(dead.who)-1]) || c.gen != 1 {
		t.Errorf("taken over from %q (claim %d), want from %q (claim 1)", c.From, c.gen, dead.who)
	}
	if old.Check() || !old.IsLost() {
		t.Error("the old holder does not learn that it lost the item")
	}
	select {
	case <-old.Lost():
	default:
		t.Error("Lost is not closed")
	}
	if err := old.Release(); err != nil {
		t.Fatal(err)
	}
	if !c.Check() {
		t.Fatal("the new holder lost its claim when the old one released")
	}
	// The number of a released claim can be used again; a late Release by
	// the worker that lost it must not remove the new claim.
	c.Release()
	dead2 := open(t, dir, time.Hour)
	a, err := dead2.Take("run-1")
	if err != nil {
		t.Fatal(err)
	}
	age(t, dir, "run-1", 0, 10*time.Second)
	b, err := live.Take("run-1") // claim 1
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	third, err := open(t, dir, time.Hour).Take("run-1") // claim 0 again, a new holder
	if err != nil || third.gen != 0 {
		t.Fatalf("take after release: %v", err)
	}
	a.Release() // lost, but it has not noticed yet
	if !third.Check() {
		t.Error("a stale holder's Release removed the new holder's claim")
	}
	third.Release()
}

// TestOneWinner: of many workers that try to take the same item at once —
// fresh, or stale — exactly one gets it.
func TestOneWinner(t *testing.T) {
	dir := t.TempDir()
	const workers = 16
	boards := make([]*Board, workers)
	for i := range boards {
		boards[i] = open(t, dir, MinLease)
	}
	dead := open(t, dir, time.Hour)
	for round := 0; round < 20; round++ {
		name := "run-fresh"
		stale := round%2 == 1
		if stale {
			name = "run-stale"
			c, err := dead.Take(name)
			if err != nil {
				t.Fatal(err)
			}
			gens, _ := list(filepath.Join(dir, name))
			age(t, dir, name, gens[len(gens)-1], time.Minute)
			defer c.Release()
		}
		var mu sync.Mutex
		var won []*Claim
		var wg sync.WaitGroup
		for _, b := range boards {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := b.Take(name)
				var held *HeldError
				switch {
				case err == nil:
					mu.Lock()
					won = append(won, c)
					mu.Unlock()
				case !errors.As(err, &held):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("round %d (stale %v): %d workers took the item", round, stale, len(won))
		}
		if stale && won[0].From == "" {
			t.Errorf("round %d: the stale claim was not taken over", round)
		}
		won[0].Release()
	}
}

// TestRefreshKeepsAlive: a held claim is refreshed, so a worker judging with
// the same lease never finds it stale.
func TestRefreshKeepsAlive(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir, MinLease), open(t, dir, MinLease)
	c, err := a.Take("run-1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	deadline := time.Now().Add(MinLease + MinLease/2)
	for time.Now().Before(deadline) {
		var held *HeldError
		if _, err := b.Take("run-1"); !errors.As(err, &held) {
			t.Fatalf("a live claim was taken over: %v", err)
		}
		time.Sleep(MinLease / 4)
	}
}

func TestLease(t *testing.T) {
	if _, err := Open(t.TempDir(), time.Second); err == nil {
		t.Error("a 1 s lease was accepted")
	}
	b := open(t, t.TempDir(), 0)
	if b.Lease() != DefaultLease {
		t.Errorf("default lease %v", b.Lease())
	}
}
