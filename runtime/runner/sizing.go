package runner

import (
	"fmt"
	"math"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"github.com/gomlx/compute"

	"github.com/sinkrun/sinkrun/compiler"
	"github.com/sinkrun/sinkrun/config"
)

// Sizing is how a batch uses the machine: Jobs runs at once, each on a
// backend opened with Spec (for the Go backend, Threads worker threads).
type Sizing struct {
	Jobs, Threads int    // Threads is 0 for backends other than Go
	Spec          string // the backend spec each worker opens
	Note          string // why an explicit -j was lowered, if it was
}

// threadWork is the training work per step (FLOPs) that one Go-backend
// thread is given when the sizing is automatic. Small models gain little from
// more threads per run (the per-op parallelism of GoMLX's Go backend has
// fixed costs), so many small runs at once use the cores better than one run
// with all of them; a model with tens of GFLOPs per step is worth several.
const threadWork = 2e9

// Cores is the number of cores this process may use: GOMAXPROCS, which
// follows the CPU affinity mask (as Slurm sets it when it pins tasks to
// cores), and which the command lowers to $SLURM_CPUS_PER_TASK and to the
// cgroup's CPU quota (package cpulimit) when those are lower.
func Cores() int { return goruntime.GOMAXPROCS(0) }

// Size chooses the jobs and threads of a batch of runs. On the Go backend
// jobs × threads never exceeds Cores(): without -j, each run gets one thread
// per threadWork FLOPs of its training step (at least 1, at most all
// cores), jobs = cores / threads, and when there are fewer runs than jobs
// the spare cores go to the runs; an explicit -j above that is lowered (with
// a Note). Other backends (XLA on a GPU) train one run at a time unless -j
// says otherwise.
func Size(opts Options, runs []config.Run) Sizing {
	spec := opts.Backend
	if spec == "" {
		spec = os.Getenv(compute.ConfigEnvVar)
	}
	if spec == "" {
		spec = "go"
	}
	name, conf, _ := strings.Cut(spec, ":")
	if name != "go" {
		return Sizing{Jobs: max(opts.Jobs, 1), Spec: spec}
	}
	cores := Cores()
	threads, explicit := parallelism(conf)
	if !explicit && opts.Threads > 0 {
		threads, explicit = opts.Threads, true
	}
	var s Sizing
	jobs := opts.Jobs
	if jobs <= 0 {
		if !explicit {
			threads = min(cores, threadsFor(runs))
		}
		jobs = max(1, cores/threads)
	}
	if !explicit {
		threads = max(1, cores/jobs)
	}
	if most := max(1, cores/threads); jobs > most {
		s.Note = fmt.Sprintf("-j %d with %d thread(s) per run exceeds the %d cores: training %d at once", jobs, threads, cores, most)
		jobs = most
	}
	if len(runs) > 0 && jobs > len(runs) {
		jobs = len(runs)
		if !explicit {
			threads = max(1, cores/jobs) // the spare cores go to the runs there are
		}
	}
	s.Jobs, s.Threads = jobs, threads
	s.Spec = withParallelism(name, conf, threads, explicit)
	return s
}

// threadsFor is the automatic thread count per run: one per threadWork
// FLOPs of the largest training step among the runs.
func threadsFor(runs []config.Run) int {
	most := 0.0
	for _, r := range runs {
		if r.Train.Steps > 0 {
			most = math.Max(most, compiler.TrainFLOPs(r)/float64(r.Train.Steps))
		}
	}
	return max(1, int(math.Ceil(most/threadWork)))
}

// parallelism reads parallelism=N from a Go backend config ("parallelism=4,ops_sequential").
func parallelism(conf string) (int, bool) {
	for _, part := range strings.Split(conf, ",") {
		if v, ok := strings.CutPrefix(part, "parallelism="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n, true
			}
		}
	}
	return 0, false
}

func withParallelism(name, conf string, threads int, explicit bool) string {
	if explicit && strings.Contains(conf, "parallelism=") {
		return name + ":" + conf
	}
	p := fmt.Sprintf("parallelism=%d", threads)
	if conf == "" {
		return name + ":" + p
	}
	return name + ":" + conf + "," + p
}
