// Package backend opens the GoMLX compute backend a batch of runs trains on.
//
// The backend is a setting, never a constant: the pure-Go backend ("go") is the
// default and needs no C libraries; the XLA backend (PJRT plugins, CPU or CUDA)
// is the GPU path, compiled in with the `xla` build tag (`make build-xla`,
// file xla.go) and pointed at a PJRT plugin at run time (docs/performance.md,
// "GPU").
package backend

import (
	"fmt"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers "go"
)

// xlaNames are the names go-xla registers its backend under.
var xlaNames = []string{"xla", "stablehlo", "shlo", "hlo", "pjrt"}

// stdoutMu serialises the swaps of os.Stdout in Open.
var stdoutMu sync.Mutex

// installXLA says how to get a binary with the XLA backend and a plugin.
const installXLA = "build sinkrun with the XLA backend (`make build-xla`, i.e. `go build -tags xla`, which needs a C compiler for cgo) " +
	"and install a PJRT plugin: for an NVIDIA GPU, JAX's CUDA plugin (`pip install jax[cuda13]`, file xla_cuda_plugin.so), " +
	"then GOMLX_BACKEND=xla:/abs/path/to/xla_cuda_plugin.so, or link it as pjrt_c_api_cuda_plugin.so into a directory on " +
	"PJRT_PLUGIN_LIBRARY_PATH and use xla:cuda (docs/performance.md, \"GPU\")"

// Spec resolves the backend configuration string: an explicit flag wins,
// then $GOMLX_BACKEND, then the pure-Go backend with `threads` workers
// (0 = all cores).
func Spec(flag string, threads int) string {
	if flag != "" {
		return withThreads(flag, threads)
	}
	if env := os.Getenv(compute.ConfigEnvVar); env != "" {
		return withThreads(env, threads)
	}
	return withThreads("go", threads)
}

// withThreads adds a worker count to a Go spec that has none ("go",
// "go:ops_sequential"); other specs are returned as they are.
func withThreads(spec string, threads int) string {
	name, conf, _ := strings.Cut(spec, ":")
	if name != "go" || strings.Contains(conf, "parallelism=") {
		return spec
	}
	if threads <= 0 {
		threads = goruntime.GOMAXPROCS(0)
	}
	p := fmt.Sprintf("parallelism=%d", threads)
	if conf == "" {
		return "go:" + p
	}
	return "go:" + conf + "," + p
}

// goScheduling sets the op scheduling of a Go backend spec that does not
// choose one itself (no ops_sequential, ops_parallel or num_executors).
//
// The Go backend runs independent ops on parallel executors, but an executor
// holds one of the `parallelism` worker slots even while it waits for work,
// and the ops' own parallel loops (matmul, fused activations, softmax) get
// only the slots left: at parallelism=2 with the default executors, a
// training step ran as slow as with one core. So for N >= 2 threads the spec
// becomes parallelism=N+1,num_executors=2: the caller and one background
// executor (in its own slot), N slots for the ops' loops. On 2 cores that was
// 20-30% faster in wall time than either the default or ops_sequential
// (docs/performance.md). One thread runs ops_sequential.
func goScheduling(spec string) string {
	name, conf, _ := strings.Cut(spec, ":")
	if name != "go" || strings.Contains(conf, "ops_sequential") || strings.Contains(conf, "ops_parallel") ||
		strings.Contains(conf, "num_executors") {
		return spec
	}
	var keep []string
	threads := 0
	for _, part := range strings.Split(conf, ",") {
		if v, ok := strings.CutPrefix(part, "parallelism="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				threads = n
				continue
			}
		}
		if part != "" {
			keep = append(keep, part)
		}
	}
	if threads == 0 {
		threads = goruntime.GOMAXPROCS(0)
	}
	if threads <= 1 {
		keep = append(keep, fmt.Sprintf("parallelism=%d", max(threads, 1)), "ops_sequential")
	} else {
		keep = append(keep, fmt.Sprintf("parallelism=%d", threads+1), "num_executors=2")
	}
	return "go:" + strings.Join(keep, ",")
}

// EffectiveSpec is the configuration Open passes to GoMLX for spec.
func EffectiveSpec(spec string) string { return goScheduling(spec) }

// XLACompiled reports whether this binary has the XLA backend (build tag xla).
func XLACompiled() bool { return slices.Contains(compute.List(), "xla") }

// Open creates the backend named by spec ("go", "go:parallelism=2",
// "xla:cuda", "xla:/abs/path/plugin.so", ...). It never panics: GoMLX
// reports some failures by panic, and those become errors; errors of the XLA
// backend say what to install.
func Open(spec string) (b compute.Backend, err error) {
	name, _, _ := strings.Cut(spec, ":")
	isXLA := slices.Contains(xlaNames, name)
	if !slices.Contains(compute.List(), name) {
		if isXLA {
			return nil, fmt.Errorf("backend %q: the XLA backend is not compiled into this binary; %s", spec, installXLA)
		}
		return nil, fmt.Errorf("backend %q: unknown backend; available: %s", spec, strings.Join(compute.List(), ", "))
	}
	hint := func(err error) error {
		if isXLA {
			return fmt.Errorf("backend %q: %w\n(to use a GPU, %s)", spec, err, installXLA)
		}
		return fmt.Errorf("backend %q: %w", spec, err)
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, hint(fmt.Errorf("%v", r))
		}
	}()
	// The Go backend prints its worker count to stdout; keep that out of the
	// program's output (backends are opened before any run starts). os.Stdout
	// is process-wide: concurrent Opens take turns.
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	stdout := os.Stdout
	if devnull, derr := os.OpenFile(os.DevNull, os.O_WRONLY, 0); derr == nil {
		os.Stdout = devnull
		defer func() { os.Stdout = stdout; devnull.Close() }()
	}
	b, err = compute.NewWithConfig(goScheduling(spec))
	if err != nil {
		// A failed constructor can return a non-nil interface holding a nil
		// pointer together with the error: never hand that out.
		return nil, hint(err)
	}
	if b == nil {
		return nil, hint(fmt.Errorf("the constructor returned no backend"))
	}
	return b, nil
}
