package hf

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestGenerateGPT2XL writes and reads back a random GPT-2 XL checkpoint
// (1.56B parameters, 6.2 GB as F32), showing that both directions stream
// one tensor at a time. It takes minutes and disk space, so it runs only
// with SINKRUN_HF_LARGE=1; it logs the time and the peak resident memory.
func TestGenerateGPT2XL(t *testing.T) {
	if os.Getenv("SINKRUN_HF_LARGE") != "1" {
		t.Skip("set SINKRUN_HF_LARGE=1 to write a 6 GB GPT-2 XL checkpoint")
	}
	a := Preset("gpt2-xl")
	dir := t.TempDir()
	start := time.Now()
	if err := Generate(dir, a, 1, "F32", 3); err != nil {
		t.Fatal(err)
	}
	wrote := time.Since(start)
	start = time.Now()
	ck, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	opened := time.Since(start)
	start = time.Now()
	var n int64
	for _, s := range CanonicalTensors(a) {
		x, err := ck.Read(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		n += int64(len(x.Data))
	}
	if n != ParamCount(a) {
		t.Errorf("read %d parameters, want %d", n, ParamCount(a))
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("GPT-2 XL (%d params, %.2f GB on disk): generate %s, open+validate %s, read all canonical %s; peak RSS %.0f MB, Go heap peak-ish %.0f MB",
		ParamCount(a), float64(ck.DiskBytes())/1e9, wrote.Round(time.Second), opened.Round(time.Millisecond), time.Since(start).Round(time.Second),
		float64(ru.Maxrss)/1024, float64(ms.HeapSys)/1e6)
}
