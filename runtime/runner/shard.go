package runner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
)

// Select returns the runs of the experiments that a batch (of a shard)
// trains, in grid order: the experiments' runs in the order given, each run
// once (two grid cells that resolve to the same config are one run).
//
// Shard i of n takes the runs whose position is i modulo n when the runs are
// ordered by experiment name, then grid order. That order does not depend on
// the order of the files on the command line, so every process of a job
// array computes the same slices; together the n shards hold every run
// exactly once.
func Select(exps []*compiler.Experiment, shard Shard) ([]config.Run, error) {
	if err := shard.check(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var runs []config.Run
	for _, e := range exps {
		for _, r := range e.Runs {
			key := r.Experiment + "/" + r.ID()
			if !seen[key] {
				seen[key] = true
				runs = append(runs, r)
			}
		}
	}
	if shard.N <= 1 {
		return runs, nil
	}
	order := make([]int, len(runs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return runs[order[a]].Experiment < runs[order[b]].Experiment })
	mine := make([]bool, len(runs))
	for pos, i := range order {
		mine[i] = pos%shard.N == shard.I
	}
	var out []config.Run
	for i, r := range runs {
		if mine[i] {
			out = append(out, r)
		}
	}
	return out, nil
}

// Shard selects the i-th of n deterministic slices of a batch (0 <= I < N).
// The zero value is the whole batch.
type Shard struct{ I, N int }

// ParseShard parses "i/n" with 0 <= i < n: the form of
// $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT (with --array=0-(n-1)) and of
// $JOB_COMPLETION_INDEX/<completions> in a Kubernetes Indexed Job.
func ParseShard(s string) (Shard, error) {
	var sh Shard
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if ok {
		var err1, err2 error
		sh.I, err1 = strconv.Atoi(a)
		sh.N, err2 = strconv.Atoi(b)
		ok = err1 == nil && err2 == nil
	}
	if !ok || sh.N < 1 {
		return Shard{}, fmt.Errorf("--shard %q: want i/n with n >= 1, e.g. 0/4 (i counts from 0)", s)
	}
	return sh, sh.check()
}

func (s Shard) check() error {
	if s == (Shard{}) {
		return nil
	}
	if s.N < 1 || s.I < 0 || s.I >= s.N {
		return fmt.Errorf("shard %d/%d: want i/n with 0 <= i < n (i counts from 0, like $SLURM_ARRAY_TASK_ID with --array=0-%d)", s.I, s.N, max(s.N-1, 0))
	}
	return nil
}

func (s Shard) String() string {
	if s.N <= 1 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// CheckShardEnv checks a shard against the scheduler's environment (getenv:
// os.Getenv) and says how the slices would fail to cover the batch:
//
//   - in a Slurm job array, the array must have exactly n tasks, evenly
//     spaced (--array=0-7, 1-8, 0-14:2), and this task must be slice
//     (SLURM_ARRAY_TASK_ID − MIN) / STEP. Any other array — a stepped one
//     whose shard arithmetic ignores the step, a resubmitted subset of the
//     indices — leaves slices that no task trains;
//   - in a Kubernetes Indexed Job, i must be $JOB_COMPLETION_INDEX.
//
// Outside a job array there is nothing to check against.
func CheckShardEnv(s Shard, getenv func(string) string) error {
	if s.N <= 1 {
		return nil
	}
	const hint = "; --claim needs no slicing: every task pulls runs until none is left"
	if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" && idx != strconv.Itoa(s.I) {
		return fmt.Errorf("--shard %s in the pod of completion index %s: want --shard %s/%d%s", s, idx, idx, s.N, hint)
	}
	if getenv("SLURM_ARRAY_TASK_ID") == "" {
		return nil
	}
	num := func(name string, def int) (int, error) {
		v := getenv(name)
		if v == "" && def >= 0 {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("--shard %s in a Slurm array: $%s is %q, want a number%s", s, name, v, hint)
		}
		return n, nil
	}
	var id, count, lo, hi, step int
	var err error
	for _, f := range []struct {
		p    *int
		name string
		def  int
	}{{&id, "SLURM_ARRAY_TASK_ID", -1}, {&count, "SLURM_ARRAY_TASK_COUNT", -1},
		{&lo, "SLURM_ARRAY_TASK_MIN", -1}, {&hi, "SLURM_ARRAY_TASK_MAX", -1}, {&step, "SLURM_ARRAY_TASK_STEP", 1}} {
		if *f.p, err = num(f.name, f.def); err != nil {
			return err
		}
	}
	array := fmt.Sprintf("array task %d of %d (indices %d to %d, step %d)", id, count, lo, hi, step)
	switch {
	case step < 1 || count < 1 || hi-lo != (count-1)*step:
		return fmt.Errorf("--shard %s in Slurm %s: the indices are not evenly spaced, so the tasks cannot name the %d slices%s", s, array, s.N, hint)
	case count < s.N:
		return fmt.Errorf("--shard %s in Slurm %s: %d tasks cannot cover %d slices; the runs of %d slices would never be trained%s",
			s, array, count, s.N, s.N-count, hint)
	case count > s.N:
		return fmt.Errorf("--shard %s in Slurm %s: %d tasks for %d slices; want --shard i/%d%s", s, array, count, s.N, count, hint)
	case (id-lo)%step != 0 || (id-lo)/step != s.I:
		return fmt.Errorf("--shard %s in Slurm %s: this task's slice is %d/%d ((SLURM_ARRAY_TASK_ID-MIN)/STEP)%s", s, array, (id-lo)/step, count, hint)
	}
	return nil
}
