// Package cpulimit finds how many CPUs a process may use when a scheduler
// limits it without pinning it to cores: Slurm without task/affinity (the
// process sees every core of the node, but was granted --cpus-per-task), a
// container with a CPU limit (a cgroup bandwidth quota: every core is
// visible, the time on them is capped). Training more threads than that
// only makes them wait for each other.
package cpulimit

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	goruntime "runtime"
	"strconv"
	"strings"
)

// Limit is the CPUs a process may use and what says so.
type Limit struct {
	CPUs   int
	Source string // e.g. "SLURM_CPUS_PER_TASK=2", "cgroup cpu.max (150000 100000)", "CPU affinity"
}

func (l Limit) String() string { return fmt.Sprintf("%d CPUs (%s)", l.CPUs, l.Source) }

// Detect is the least of: the CPUs in the affinity mask (affinity),
// $SLURM_CPUS_PER_TASK, and the CPU bandwidth limit of the process's cgroup
// and its ancestors (cgroup v2 cpu.max, v1 cpu.cfs_quota_us over
// cpu.cfs_period_us), rounded down, at least 1. root is the file system
// holding /proc and /sys/fs/cgroup (os.DirFS("/")); a cgroup that cannot be
// read sets no limit.
func Detect(getenv func(string) string, root fs.FS, affinity int) Limit {
	l := Limit{CPUs: max(affinity, 1), Source: "CPU affinity"}
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("SLURM_CPUS_PER_TASK"))); err == nil && n > 0 && n < l.CPUs {
		l = Limit{CPUs: n, Source: "SLURM_CPUS_PER_TASK=" + strconv.Itoa(n)}
	}
	if c, ok := cgroupLimit(root); ok && c.CPUs < l.CPUs {
		l = c
	}
	return l
}

// Apply sets GOMAXPROCS to the detected limit when that is lower, unless
// $GOMAXPROCS is set (the user's choice stands). It returns the limit.
// Call it before starting goroutines that size themselves on GOMAXPROCS.
func Apply() Limit {
	l := Detect(os.Getenv, os.DirFS("/"), goruntime.NumCPU())
	if os.Getenv("GOMAXPROCS") == "" && l.CPUs < goruntime.GOMAXPROCS(0) {
		goruntime.GOMAXPROCS(l.CPUs)
	}
	return l
}

// cgroupLimit is the tightest CPU bandwidth limit on the process's cgroups.
func cgroupLimit(root fs.FS) (Limit, bool) {
	groups, err := fs.ReadFile(root, "proc/self/cgroup")
	if err != nil {
		return Limit{}, false
	}
	mounts, err := fs.ReadFile(root, "proc/self/mountinfo")
	if err != nil {
		return Limit{}, false
	}
	var best Limit
	found := false
	for _, g := range parseCgroups(groups) {
		for _, m := range parseMounts(mounts) {
			if !m.holds(g) {
				continue
			}
			dir, ok := m.dirOf(g.path)
			if !ok {
				continue
			}
			// A limit on an ancestor caps every cgroup below it.
			for {
				if l, ok := readLimit(root, dir, g.v2); ok && (!found || l.CPUs < best.CPUs) {
					best, found = l, true
				}
				if dir == m.point || dir == "." {
					break
				}
				dir = path.Dir(dir)
			}
		}
	}
	return best, found
}

// readLimit reads the bandwidth limit set in one cgroup directory.
func readLimit(root fs.FS, dir string, v2 bool) (Limit, bool) {
	var quota, period int64
	var source string
	if v2 {
		b, err := fs.ReadFile(root, path.Join(dir, "cpu.max"))
		if err != nil {
			return Limit{}, false
		}
		f := strings.Fields(string(b))
		if len(f) != 2 || f[0] == "max" {
			return Limit{}, false
		}
		quota, _ = strconv.ParseInt(f[0], 10, 64)
		period, _ = strconv.ParseInt(f[1], 10, 64)
		source = fmt.Sprintf("cgroup cpu.max (%s %s)", f[0], f[1])
	} else {
		q, err1 := fs.ReadFile(root, path.Join(dir, "cpu.cfs_quota_us"))
		p, err2 := fs.ReadFile(root, path.Join(dir, "cpu.cfs_period_us"))
		if err1 != nil || err2 != nil {
			return Limit{}, false
		}
		quota, _ = strconv.ParseInt(strings.TrimSpace(string(q)), 10, 64)
		period, _ = strconv.ParseInt(strings.TrimSpace(string(p)), 10, 64)
		source = fmt.Sprintf("cgroup cpu.cfs_quota_us %d over cpu.cfs_period_us %d", quota, period)
	}
	if quota <= 0 || period <= 0 { // -1: no limit
		return Limit{}, false
	}
	return Limit{CPUs: max(1, int(quota/period)), Source: source}, true
}

// cgroup is a line of /proc/self/cgroup: v2 ("0::/path") or a v1
// hierarchy with its controllers ("4:cpu,cpuacct:/path").
type cgroup struct {
	v2          bool
	controllers []string
	path        string
}

func parseCgroups(b []byte) []cgroup {
	var gs []cgroup
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), ":", 3)
		if len(f) != 3 {
			continue
		}
		g := cgroup{path: f[2]}
		if f[0] == "0" && f[1] == "" {
			g.v2 = true
		} else {
			g.controllers = strings.Split(f[1], ",")
		}
		gs = append(gs, g)
	}
	return gs
}

// mount is a cgroup file system in /proc/self/mountinfo: the cgroup path it
// shows (root) at point, with its type and, for v1, its controllers.
type mount struct {
	root, point string // point without the leading slash, as fs.FS wants
	v2          bool
	options     []string
}

func parseMounts(b []byte) []mount {
	var ms []mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// 32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 5 || len(b) < 3 || (b[0] != "cgroup" && b[0] != "cgroup2") {
			continue
		}
		ms = append(ms, mount{root: a[3], point: strings.TrimPrefix(path.Clean(a[4]), "/"), v2: b[0] == "cgroup2", options: strings.Split(b[2], ",")})
	}
	return ms
}

// holds reports whether the mount is the hierarchy of cgroup g that limits
// the CPU.
func (m mount) holds(g cgroup) bool {
	if m.v2 || g.v2 {
		return m.v2 && g.v2
	}
	hasCPU := func(list []string) bool {
		for _, s := range list {
			if s == "cpu" {
				return true
			}
		}
		return false
	}
	return hasCPU(g.controllers) && hasCPU(m.options)
}

// dirOf is the directory of the cgroup at cgroup path p under the mount, or
// false when the mount does not show it.
func (m mount) dirOf(p string) (string, bool) {
	rel, ok := p, m.root == "/"
	if !ok {
		if rel, ok = strings.CutPrefix(p, m.root); !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
			return "", false
		}
	}
	return path.Join(m.point, rel), true
}
