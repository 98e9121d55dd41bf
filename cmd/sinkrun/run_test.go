package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunSplitFlags: the ways of splitting a batch are checked before
// anything trains.
func TestRunSplitFlags(t *testing.T) {
	sink := writeSink(t, killGrid)
	stepped := map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3",
		"SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_STEP": "2"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"claim and shard", []string{"--claim", "--shard", "0/2"}, nil, "--shard and --claim exclude each other"},
		{"lease too short", []string{"--claim", "--lease", "1s"}, nil, "--lease 1s: want at least 3s"},
		{"a stepped array's slices", []string{"--shard", "2/5"}, stepped, "the runs of 2 slices would never be trained"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v) // restored when the subtest ends
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"run", sink, "--out", t.TempDir()}, tc.args...)
			if code := dispatch(context.Background(), args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d saying %q", code, stderr.String(), exitUsage, tc.want)
			}
		})
	}
}
