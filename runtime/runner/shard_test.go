package runner

import (
	"strings"
	"testing"
)

// TestCheckShardEnv: fixed slices must match the job array they run in, or
// runs would be silently left out.
func TestCheckShardEnv(t *testing.T) {
	slurm := func(id, count, lo, hi, step string) map[string]string {
		m := map[string]string{"SLURM_ARRAY_TASK_ID": id, "SLURM_ARRAY_TASK_COUNT": count,
			"SLURM_ARRAY_TASK_MIN": lo, "SLURM_ARRAY_TASK_MAX": hi}
		if step != "" {
			m["SLURM_ARRAY_TASK_STEP"] = step
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		shard Shard
		env   map[string]string
		err   string // "" = accepted
	}{
		{"no scheduler", Shard{2, 5}, nil, ""},
		{"whole batch", Shard{}, slurm("3", "2", "3", "5", "1"), ""},
		{"--array=0-7, task 3", Shard{3, 8}, slurm("3", "8", "0", "7", "1"), ""},
		{"--array=1-8, task 4 is slice 3", Shard{3, 8}, slurm("4", "8", "1", "8", ""), ""},
		{"--array=0-14:2, task 6 is slice 3", Shard{3, 8}, slurm("6", "8", "0", "14", "2"), ""},
		{"--array=0-4:2 with max-min+1 slices", Shard{2, 5}, slurm("2", "3", "0", "4", "2"), "3 tasks cannot cover 5 slices; the runs of 2 slices would never be trained"},
		{"--array=3,5 of an 0-7 array (Slurm 22.05 sets STEP=1)", Shard{3, 8}, slurm("3", "2", "3", "5", "1"), "not evenly spaced"},
		{"--array=3,4 of an 0-7 array", Shard{3, 8}, slurm("3", "2", "3", "4", "1"), "2 tasks cannot cover 8 slices"},
		{"--array=1,2,7: uneven", Shard{0, 3}, slurm("1", "3", "1", "7", "1"), "not evenly spaced"},
		{"wrong slice for the task", Shard{1, 8}, slurm("3", "8", "0", "7", "1"), "this task's slice is 3/8"},
		{"more tasks than slices", Shard{1, 4}, slurm("1", "8", "0", "7", "1"), "8 tasks for 4 slices"},
		{"bad number", Shard{1, 4}, slurm("1", "x", "0", "3", "1"), "SLURM_ARRAY_TASK_COUNT is \"x\""},
		{"kubernetes index matches", Shard{3, 8}, map[string]string{"JOB_COMPLETION_INDEX": "3"}, ""},
		{"kubernetes index differs", Shard{2, 8}, map[string]string{"JOB_COMPLETION_INDEX": "3"}, "want --shard 3/8"},
	} {
		err := CheckShardEnv(tc.shard, func(k string) string { return tc.env[k] })
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--claim")):
			t.Errorf("%s: error %v, want one saying %q and suggesting --claim", tc.name, err, tc.err)
		}
	}
}
