package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sinkrun/sinkrun/config"
	"github.com/sinkrun/sinkrun/results/table"
	"github.com/sinkrun/sinkrun/runtime/runner/claim"
)

// A queue hands a batch's workers the runs to train.
type queue interface {
	// next returns the next run to train; false when none is left.
	next() (task, bool, error)
	// done is called once the workers have stopped.
	done()
}

// task is a run to train (an index into batch.runs) and, with claiming,
// its claim.
type task struct {
	i     int
	claim *claim.Claim
}

// errClaimLost stops a run whose claim another worker took over.
var errClaimLost = errors.New("claim taken over by another worker")

// listQueue hands out the runs in order: this process trains all of them.
type listQueue struct {
	mu   sync.Mutex
	todo []int
}

func (q *listQueue) next() (task, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.todo) == 0 {
		return task{}, false, nil
	}
	i := q.todo[0]
	q.todo = q.todo[1:]
	return task{i: i}, true, nil
}

func (q *listQueue) done() {}

// claimQueue hands out the runs that this worker could claim, in grid order,
// until every run left is finished or held by another live worker.
type claimQueue struct {
	b *batch

	mu      sync.Mutex
	pending []int                    // runs not trained here: not tried yet, or held elsewhere
	stamps  map[int]stamp            // each run's runs file before this batch read the results
	held    map[int]*claim.HeldError // who held a pending run when last tried
}

// stamp identifies a version of a run's runs file; the zero stamp is "no file".
type stamp struct {
	mod  time.Time
	size int64
}

func runsStamp(out string, exp, id string) stamp {
	fi, err := os.Stat(table.Path(out, table.TableRuns, exp, id))
	if err != nil {
		return stamp{}
	}
	return stamp{fi.ModTime(), fi.Size()}
}

// runsStamps stamps each run's runs file, by index in runs.
func runsStamps(out string, runs []config.Run) map[int]stamp {
	stamps := make(map[int]stamp, len(runs))
	for i, r := range runs {
		stamps[i] = runsStamp(out, r.Experiment, r.ID())
	}
	return stamps
}

// claimQueue queues the runs to train (todo) under claims. stamps are the
// runs files as they were before the batch read the results that made todo.
func (b *batch) claimQueue(todo []int, stamps map[int]stamp) (*claimQueue, error) {
	board, err := claim.Open(filepath.Join(b.opts.Out, claimsDir), b.opts.Lease)
	if err != nil {
		return nil, err
	}
	b.board = board
	return &claimQueue{b: b, pending: todo, stamps: stamps, held: map[int]*claim.HeldError{}}, nil
}

// claimsDir is where the claims live, under the results root.
const claimsDir = "claims"

// claimName is a run's claim under the claims directory:
// experiment=<name>/run-<id>, like its results files.
func claimName(exp, id string) string {
	return filepath.ToSlash(filepath.Join(table.PartitionDir("", "", exp), "run-"+id))
}

// written reports whether run i's results were written since this batch
// started: another worker trained it (or failed it: a failed run is retried
// by the next batch, not by every worker of this one).
func (q *claimQueue) written(i int) bool {
	r := q.b.runs[i]
	now := runsStamp(q.b.opts.Out, r.Experiment, r.ID())
	return now != (stamp{}) && now != q.stamps[i]
}

func (q *claimQueue) next() (task, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for k := 0; k < len(q.pending); {
		i := q.pending[k]
		if q.written(i) {
			q.resolved(k, "trained by another worker")
			continue
		}
		run := q.b.runs[i]
		c, err := q.b.board.Take(claimName(run.Experiment, run.ID()))
		var held *claim.HeldError
		if errors.As(err, &held) {
			q.held[i] = held
			k++
			continue
		}
		if err != nil {
			return task{}, false, fmt.Errorf("%s: %w", q.b.label(i), err)
		}
		// Its last holder may have finished it between the check above
		// and its release.
		if q.written(i) {
			c.Release()
			q.resolved(k, "trained by another worker")
			continue
		}
		q.pending = append(q.pending[:k], q.pending[k+1:]...)
		delete(q.held, i)
		return task{i: i, claim: c}, true, nil
	}
	return task{}, false, nil
}

// resolved drops pending run k, trained elsewhere.
func (q *claimQueue) resolved(k int, what string) {
	i := q.pending[k]
	q.pending = append(q.pending[:k], q.pending[k+1:]...)
	delete(q.held, i)
	q.b.mu.Lock()
	q.b.outcome.Elsewhere++
	q.b.mu.Unlock()
	q.b.disp.event(fmt.Sprintf("%s: %s", q.b.label(i), what))
}

// done reports the runs left to other workers.
func (q *claimQueue) done() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.pending) > 0 {
		i := q.pending[0]
		switch h := q.held[i]; {
		case q.written(i):
			q.resolved(0, "trained by another worker")
		case h != nil:
			q.resolved(0, fmt.Sprintf("left to %s, which holds its claim (refreshed %v ago; taken over when not refreshed for %v)",
				h.Holder, h.Age.Round(time.Second), q.b.board.Lease()))
		default: // the batch stopped before trying it
			q.pending = q.pending[1:]
		}
	}
}

// close removes this worker's clock file. The claims directory stays: other
// workers may be about to claim in it.
func (q *claimQueue) close() { q.b.board.Close() }

// adoptCheckpoint returns the directory a claimed run checkpoints in: one of
// its claim's own, <ckpt>.claim-<n>. A worker that lost the run (it stalled
// for longer than the lease, and is stopped when it wakes up) then writes
// its last checkpoint where no other worker reads. Before training, the
// run's newest complete checkpoint is moved there: that of the worker whose
// claim this one took over, if it saved one, else the one a stopped worker
// returned to <ckpt> (see returnCheckpoint). An error leaves the run to
// start afresh, which costs time, not results.
func adoptCheckpoint(ckpt string, c *claim.Claim) (string, error) {
	mine := ckpt + ".claim-" + strconv.Itoa(c.Number())
	for _, d := range []string{mine, mine + ".tmp", mine + ".old"} {
		os.RemoveAll(d) // left by a worker that lost an earlier claim of this number
	}
	var from []string
	if c.From != "" && c.Number() > 0 {
		prev := ckpt + ".claim-" + strconv.Itoa(c.Number()-1)
		// The complete copies: <dir>, or <dir>.old while a save renames.
		from = append(from, prev, prev+".old")
	}
	from = append(from, ckpt, ckpt+".old")
	for _, d := range from {
		switch err := os.Rename(d, mine); {
		case err == nil:
			return mine, nil
		case !errors.Is(err, fs.ErrNotExist):
			return mine, fmt.Errorf("taking over its checkpoint: %w", err)
		}
	}
	return mine, nil
}

// returnCheckpoint moves an interrupted claimed run's checkpoint back to the
// run's checkpoint directory, where the next worker looks.
func returnCheckpoint(mine, ckpt string) error {
	for _, d := range []string{ckpt, ckpt + ".old"} {
		os.RemoveAll(d)
	}
	for _, d := range []string{mine, mine + ".old"} {
		switch err := os.Rename(d, ckpt); {
		case err == nil:
			return nil
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("returning its checkpoint: %w", err)
		}
	}
	return nil // no step finished: nothing saved
}

// claimCheckpoints lists the claim checkpoints of a run (<ckpt>.claim-*, with
// their .tmp and .old).
func claimCheckpoints(ckpt string) []string {
	entries, _ := os.ReadDir(filepath.Dir(ckpt))
	prefix := filepath.Base(ckpt) + ".claim-"
	var dirs []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			dirs = append(dirs, filepath.Join(filepath.Dir(ckpt), e.Name()))
		}
	}
	return dirs
}
