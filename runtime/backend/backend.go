// Package backend opens the GoMLX compute backend a batch of runs trains on.
//
// The backend is a setting, never a constant: the pure-Go backend ("go") is the
// default and needs no C libraries; the XLA backend (PJRT plugins, CPU or CUDA)
// is the GPU path, compiled in with the `xla` build tag (see README).
package backend

import (
	"fmt"
	"os"
	goruntime "runtime"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers "go"
)

// Spec resolves the backend configuration string: an explicit flag wins,
// then $GOMLX_BACKEND, then the pure-Go backend with `threads` workers
// (0 = all cores).
func Spec(flag string, threads int) string {
	if flag != "" {
		return withThreads(flag, threads)
	}
	if env := os.Getenv(compute.ConfigEnvVar); env != "" {
		return env
	}
	return withThreads("go", threads)
}

// withThreads adds a worker count to a bare "go" spec.
func withThreads(spec string, threads int) string {
	if spec != "go" {
		return spec
	}
	if threads <= 0 {
		threads = goruntime.NumCPU()
	}
	return fmt.Sprintf("go:parallelism=%d", threads)
}

// Open creates the backend named by spec ("go", "go:parallelism=2",
// "xla:cuda", "xla:/abs/path/plugin.so", ...). It never panics: GoMLX
// reports unknown backends by panic, and those become errors that say what
// to install.
func Open(spec string) (b compute.Backend, err error) {
	name, _, _ := strings.Cut(spec, ":")
	if !slices.Contains(compute.List(), name) {
		if name == "xla" {
			return nil, fmt.Errorf("backend %q: the XLA backend is not compiled into this binary; "+
				"build with `make build-xla` (Go build tag `xla`) and install a PJRT plugin "+
				"(see README, \"GPU\")", spec)
		}
		return nil, fmt.Errorf("backend %q: unknown backend; available: %s", spec, strings.Join(compute.List(), ", "))
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend %q: %v", spec, r)
		}
	}()
	// The Go backend prints its worker count to stdout; keep that out of the
	// program's output (backends are opened before any run starts).
	stdout := os.Stdout
	if devnull, derr := os.OpenFile(os.DevNull, os.O_WRONLY, 0); derr == nil {
		os.Stdout = devnull
		defer func() { os.Stdout = stdout; devnull.Close() }()
	}
	b, err = compute.NewWithConfig(spec)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", spec, err)
	}
	return b, nil
}
