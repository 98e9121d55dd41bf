package backend

import (
	"strings"
	"testing"

	"github.com/gomlx/compute"
)

func TestSpec(t *testing.T) {
	t.Setenv(compute.ConfigEnvVar, "")
	for _, c := range []struct {
		flag    string
		threads int
		env     string
		want    string
	}{
		{"", 2, "", "go:parallelism=2"},
		{"go", 3, "", "go:parallelism=3"},
		{"go:ops_sequential", 2, "", "go:ops_sequential,parallelism=2"},
		{"go:parallelism=4", 2, "", "go:parallelism=4"},
		{"xla:cuda", 2, "", "xla:cuda"},
		{"", 2, "xla:/opt/pjrt/xla_cuda_plugin.so", "xla:/opt/pjrt/xla_cuda_plugin.so"},
		{"", 1, "go", "go:parallelism=1"},
		{"go:parallelism=2", 1, "xla:cuda", "go:parallelism=2"}, // the flag wins
	} {
		t.Setenv(compute.ConfigEnvVar, c.env)
		if got := Spec(c.flag, c.threads); got != c.want {
			t.Errorf("Spec(%q, %d) with $%s=%q = %q, want %q", c.flag, c.threads, compute.ConfigEnvVar, c.env, got, c.want)
		}
	}
	t.Setenv(compute.ConfigEnvVar, "")
	if got := Spec("", 0); !strings.HasPrefix(got, "go:parallelism=") {
		t.Errorf("Spec default = %q", got)
	}
}

func TestOpenGo(t *testing.T) {
	b, err := Open("go:parallelism=1")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if b.String() != "go" {
		t.Errorf("backend %q", b.String())
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("nosuch:x"); err == nil || !strings.Contains(err.Error(), "unknown backend") {
		t.Errorf("unknown backend: %v", err)
	}
	if _, err := Open("go:no_such_option"); err == nil {
		t.Error("bad Go option: no error")
	}
	// Without the xla build tag (or without a plugin) selecting XLA is an
	// error that says what to install, never a panic.
	_, err := Open("xla:cuda")
	if err == nil {
		t.Skip("an XLA CUDA plugin is installed here")
	}
	for _, want := range []string{"make build-xla", "PJRT", "GOMLX_BACKEND=xla:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("xla error lacks %q: %v", want, err)
		}
	}
	if !XLACompiled() && !strings.Contains(err.Error(), "not compiled into this binary") {
		t.Errorf("xla error: %v", err)
	}
}

func TestGoScheduling(t *testing.T) {
	for in, want := range map[string]string{
		"go:parallelism=2":                  "go:parallelism=3,num_executors=2",
		"go:parallelism=4":                  "go:parallelism=5,num_executors=2",
		"go:parallelism=1":                  "go:parallelism=1,ops_sequential",
		"go:parallelism=2,ops_parallel":     "go:parallelism=2,ops_parallel",
		"go:parallelism=2,ops_sequential":   "go:parallelism=2,ops_sequential",
		"go:parallelism=3,num_executors=3":  "go:parallelism=3,num_executors=3",
		"go:dependency_order,parallelism=2": "go:dependency_order,parallelism=3,num_executors=2",
		"xla:cuda":                          "xla:cuda",
	} {
		if got := goScheduling(in); got != want {
			t.Errorf("goScheduling(%q) = %q, want %q", in, got, want)
		}
	}
	if got := goScheduling("go"); !strings.HasPrefix(got, "go:parallelism=") {
		t.Errorf("goScheduling(go) = %q", got)
	}
}
