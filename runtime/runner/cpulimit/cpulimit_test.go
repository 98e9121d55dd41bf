package cpulimit

import (
	"testing"
	"testing/fstest"
)

const (
	v2Mounts     = "25 30 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
	hybridMounts = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
		"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n" +
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		files    fstest.MapFS
		affinity int
		cpus     int
		source   string
	}{
		{"nothing but the affinity", nil, fstest.MapFS{}, 8, 8, "CPU affinity"},
		{"slurm -c 2 without pinning", map[string]string{"SLURM_CPUS_PER_TASK": "2"}, fstest.MapFS{}, 64, 2, "SLURM_CPUS_PER_TASK=2"},
		{"slurm pinned: affinity already lower", map[string]string{"SLURM_CPUS_PER_TASK": "8"}, fstest.MapFS{}, 4, 4, "CPU affinity"},
		{"bad slurm value ignored", map[string]string{"SLURM_CPUS_PER_TASK": "two"}, fstest.MapFS{}, 4, 4, "CPU affinity"},
		{"v2 container limit 1.5 CPUs", nil, fstest.MapFS{
			"proc/self/cgroup":      file("0::/\n"),
			"proc/self/mountinfo":   file(v2Mounts),
			"sys/fs/cgroup/cpu.max": file("150000 100000\n"),
		}, 16, 1, "cgroup cpu.max (150000 100000)"},
		{"v2 no limit", nil, fstest.MapFS{
			"proc/self/cgroup":      file("0::/\n"),
			"proc/self/mountinfo":   file(v2Mounts),
			"sys/fs/cgroup/cpu.max": file("max 100000\n"),
		}, 16, 16, "CPU affinity"},
		{"v2 limit on an ancestor", nil, fstest.MapFS{
			"proc/self/cgroup":                       file("0::/kubepods/pod1/c1\n"),
			"proc/self/mountinfo":                    file(v2Mounts),
			"sys/fs/cgroup/kubepods/pod1/c1/cpu.max": file("max 100000\n"),
			"sys/fs/cgroup/kubepods/pod1/cpu.max":    file("400000 100000\n"),
			"sys/fs/cgroup/kubepods/cpu.max":         file("800000 100000\n"),
		}, 32, 4, "cgroup cpu.max (400000 100000)"},
		{"v2 mount showing a sub-tree (cgroup namespace)", nil, fstest.MapFS{
			"proc/self/cgroup":           file("0::/job/step\n"),
			"proc/self/mountinfo":        file("25 30 0:23 /job /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
			"sys/fs/cgroup/step/cpu.max": file("200000 100000\n"),
		}, 32, 2, "cgroup cpu.max (200000 100000)"},
		{"v1 cfs quota, hybrid layout", nil, fstest.MapFS{
			"proc/self/cgroup":                               file("4:memory:/x\n2:cpuacct:/\n1:cpu:/docker/abc\n0::/\n"),
			"proc/self/mountinfo":                            file(hybridMounts),
			"sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us":  file("300000\n"),
			"sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us": file("100000\n"),
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us":             file("-1\n"),
			"sys/fs/cgroup/cpu/cpu.cfs_period_us":            file("100000\n"),
		}, 8, 3, "cgroup cpu.cfs_quota_us 300000 over cpu.cfs_period_us 100000"},
		{"v1 no quota", nil, fstest.MapFS{
			"proc/self/cgroup":                            file("1:cpu,cpuacct:/\n"),
			"proc/self/mountinfo":                         file("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"),
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  file("-1\n"),
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": file("100000\n"),
		}, 8, 8, "CPU affinity"},
		{"half a CPU is one", nil, fstest.MapFS{
			"proc/self/cgroup":      file("0::/\n"),
			"proc/self/mountinfo":   file(v2Mounts),
			"sys/fs/cgroup/cpu.max": file("50000 100000\n"),
		}, 4, 1, "cgroup cpu.max (50000 100000)"},
		{"slurm and a cgroup: the lower wins", map[string]string{"SLURM_CPUS_PER_TASK": "3"}, fstest.MapFS{
			"proc/self/cgroup":      file("0::/\n"),
			"proc/self/mountinfo":   file(v2Mounts),
			"sys/fs/cgroup/cpu.max": file("500000 100000\n"),
		}, 16, 3, "SLURM_CPUS_PER_TASK=3"},
	} {
		l := Detect(func(k string) string { return tc.env[k] }, tc.files, tc.affinity)
		if l.CPUs != tc.cpus || l.Source != tc.source {
			t.Errorf("%s: %v, want %d CPUs (%s)", tc.name, l, tc.cpus, tc.source)
		}
	}
}
