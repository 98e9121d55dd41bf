package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sinkrun/sinkrun/results/table"
)

// Two experiments of one tiny run each: --experiment picks one.
const twoExperiments = `experiment alpha {
  model { layers 1; heads 2; d_model 16 }
  data { corpus bigram_backcopy(vocab: 16, triggers: 2); context 16 }
  train { steps 20; batch 4; seeds [1] }
  measure { every 10; probe_sequences 4; probe_length 16; val_batches 1 }
  expect { sink_1 >= 0 }
}

experiment beta {
  model { layers 1; heads 2; d_model 16 }
  data { corpus bigram_backcopy(vocab: 16, triggers: 2); context 16 }
  train { steps 20; batch 4; seeds [2] }
  measure { every 10; probe_sequences 4; probe_length 16; val_batches 1 }
  expect { sink_1 >= 0 }
}
`

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = dispatch(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// Mistyped commands and flags get one line with the nearest name, not the
// whole usage.
func TestDidYouMean(t *testing.T) {
	sink := writeSink(t, killGrid)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"chek", sink}, `sinkrun: unknown command "chek" (did you mean "check"?); ` + "`sinkrun help` lists the commands"},
		{[]string{"sumarize"}, `(did you mean "summarize"?)`},
		{[]string{"run", sink, "--forse"}, "sinkrun run: unknown flag -forse (did you mean --force?); `sinkrun run --help` lists its flags"},
		{[]string{"plan", "--reslved", sink}, "unknown flag -reslved (did you mean --resolved?)"},
		{[]string{"summarize", "--formt", "csv", "x"}, "unknown flag -formt (did you mean --format?)"},
		{[]string{"run", sink, "-j", "two"}, `sinkrun run: invalid value "two" for flag -j`},
		{[]string{"tokenizer", "train", "--vocab", "1", "--outt", "x"}, "sinkrun tokenizer train: unknown flag -outt (did you mean --out?)"},
		{[]string{"xyzzy"}, `unknown command "xyzzy"; ` + "`sinkrun help`"},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "Usage:") || stdout != "" {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit %d, one line with %q and no usage", tc.args, code, stderr, exitUsage, tc.want)
		}
		if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 0 {
			t.Errorf("%q: %d lines on stderr, want 1:\n%s", tc.args, n+1, stderr)
		}
	}
}

// Every command's --help: each flag's placeholder is a name (not words of
// its text, as `-keep-weights sinkrun export` was), each default is said
// once, and plan lists -j with its other flags.
func TestHelpTexts(t *testing.T) {
	placeholder := regexp.MustCompile(`^  -(\S+)(?: (.*))?$`)
	for _, c := range append(commands(), command{name: "tokenizer train"}) {
		args := append(strings.Fields(c.name), "--help")
		code, stdout, stderr := runCLI(args...)
		if c.name == "tokenizer" {
			continue // its help is its subcommand's
		}
		if code != exitOK {
			t.Errorf("%s --help: exit %d\n%s", c.name, code, stderr)
			continue
		}
		help := stdout + stderr
		for _, line := range strings.Split(help, "\n") {
			if m := placeholder.FindStringSubmatch(line); m != nil && strings.Contains(m[2], " ") {
				t.Errorf("%s --help: flag -%s shows the placeholder %q", c.name, m[1], m[2])
			}
			if strings.Count(line, "(default") > 1 {
				t.Errorf("%s --help: a default said twice: %q", c.name, line)
			}
		}
	}
	_, _, help := runCLI("plan", "--help")
	for _, flag := range []string{"  -j N\n", "  -out string\n", "  -time\n", "  -experiment NAME\n"} {
		if !strings.Contains(help, flag) {
			t.Errorf("plan --help lacks %q:\n%s", flag, help)
		}
	}
	if strings.Contains(help, "Time estimate flags") {
		t.Errorf("plan --help splits its flags in two lists:\n%s", help)
	}
}

// -j2 means -j 2 on plan as on run; plan numbers runs over the whole file
// (as export --run counts them) when --experiment shows one.
func TestPlanJobsAndExperiment(t *testing.T) {
	sink := writeSink(t, twoExperiments)
	code, stdout, stderr := runCLI("plan", sink, "-j2", "--time=false", "--experiment", "beta")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^beta +2 `).MatchString(stdout) || strings.Contains(stdout, "alpha") ||
		!strings.Contains(stdout, "1 run in 1 experiment,") {
		t.Errorf("plan --experiment beta:\n%s", stdout)
	}
	if got := expandJobs([]string{"-j2", "--j12", "-j", "3", "--", "-j4"}); strings.Join(got, " ") != "-j=2 -j=12 -j 3 -- -j4" {
		t.Errorf("expandJobs = %q", got)
	}
}

// --experiment NAME on run, plan, expect and report: repeatable, and an
// unknown name is refused with the nearest one.
func TestExperimentFlag(t *testing.T) {
	sink := writeSink(t, twoExperiments)
	out := filepath.Join(t.TempDir(), "res")
	for _, cmd := range [][]string{
		{"run", sink, "--out", out},
		{"plan", "--time=false", sink},
		{"expect", out, sink},
		{"report", out, sink},
	} {
		os.MkdirAll(out, 0o755)
		code, _, stderr := runCLI(append(cmd, "--experiment", "alhpa")...)
		if code != exitUsage || !strings.Contains(stderr, `--experiment alhpa: these files define no experiment "alhpa" (did you mean "alpha"?)`) {
			t.Errorf("%s --experiment alhpa: exit %d\n%s", cmd[0], code, stderr)
		}
	}
	code, stdout, stderr := runCLI("run", sink, "--out", out, "--experiment", "beta", "--progress", "lines")
	if code != exitOK {
		t.Fatalf("run --experiment beta: exit %d\n%s", code, stderr)
	}
	runs, err := table.ReadRuns(out)
	if err != nil || len(runs) != 1 || runs[0].Experiment != "beta" {
		t.Fatalf("run --experiment beta wrote %d runs (%v)", len(runs), err)
	}
	if !strings.Contains(stderr, "1 run to train (0 have results)") || strings.Contains(stdout, "experiment alpha") {
		t.Errorf("run --experiment beta:\n%s\n%s", stdout, stderr)
	}
	// Both named (the flag repeated): alpha trains, beta is skipped.
	code, _, stderr = runCLI("run", sink, "--out", out, "--experiment", "alpha", "--experiment", "beta", "--progress", "lines")
	if code != exitOK || !strings.Contains(stderr, "1 done, 1 skipped") {
		t.Fatalf("run --experiment alpha --experiment beta: exit %d\n%s", code, stderr)
	}
	code, stdout, _ = runCLI("expect", out, sink, "--experiment", "beta")
	if code != exitOK || strings.Contains(stdout, "sink:6:") || !strings.Contains(stdout, "expectations: 1 pass") {
		t.Errorf("expect --experiment beta: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI("report", out, sink, "--experiment", "alpha")
	if code != exitOK || strings.Contains(stdout, "sinkrun report: beta") || !strings.Contains(stdout, "<!-- begin sinkrun report: alpha -->") {
		t.Errorf("report --experiment alpha: exit %d\n%s", code, stdout)
	}
}

// The default results directory is not a directory of the source tree: the
// Parquet files of `make quickstart` do not land among .go files.
func TestDefaultOutOutsideSource(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("not at the repository root: %v", err)
	}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || path == filepath.Join(root, DefaultOut)) {
			return filepath.SkipDir
		}
		if d.IsDir() && d.Name() == DefaultOut {
			t.Errorf("%s: a source directory has the name of the default results directory", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil || !strings.Contains(string(ignore), "/"+DefaultOut+"/") {
		t.Errorf(".gitignore does not ignore /%s/ (%v)", DefaultOut, err)
	}
}

// TestForceInterrupted: interrupting a --force batch says what each way of
// going on does, and it is so: the same command resumes the interrupted run
// and trains the finished ones again; without --force every run that has
// results is skipped.
func TestForceInterrupted(t *testing.T) {
	sink := writeSink(t, strings.Replace(killGrid, "steps 150", "steps 900", 1))
	out := filepath.Join(t.TempDir(), "out")
	if p := start(t, "run", sink, "--out", out, "-j", "1"); p.wait(t) != 0 {
		t.Fatalf("first batch:\n%s", p.log())
	}
	args := []string{"run", sink, "--out", out, "-j", "1", "--force", "--progress", "lines", "--checkpoint-every", "100"}
	p := start(t, args...)
	// Stop it while the second run trains, past a checkpoint.
	second := regexp.MustCompile(`\[2/6\] .*: training run-([0-9a-f]+)`)
	if !p.until(func() bool {
		m := second.FindStringSubmatch(p.log())
		if m == nil {
			return false
		}
		_, err := os.Stat(filepath.Join(out, "checkpoints", "experiment=kill", "run-"+m[1], "state.gob"))
		return err == nil
	}) {
		t.Skipf("the batch finished before it could be interrupted:\n%s", p.log())
	}
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(t); code != exitInterrupted {
		t.Fatalf("exit %d, want %d:\n%s", code, exitInterrupted, p.log())
	}
	log := p.log()
	m := regexp.MustCompile(`interrupted; the same command \(with --force\) trains every run again from step 0, the (\d) this batch finished too, but resumes the 1 interrupted from its checkpoint; ` +
		`without --force only the runs without results are trained \(interrupted ones resume\), and every other run keeps the results it has \(the (\d) from this batch, earlier ones for the rest\)`).FindStringSubmatch(log)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Fatalf("the interruption of a --force batch does not say how to go on:\n%s", log)
	}
	if !strings.Contains(log, "6 runs to train (6 with results, trained again: --force)") ||
		!strings.Contains(log, "it keeps its earlier results until it finishes: the batch run again with --force resumes it (without --force it is skipped)") {
		t.Errorf("batch lines:\n%s", log)
	}
	// Both ways on from the same state.
	copied := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(copied, os.DirFS(out)); err != nil {
		t.Fatal(err)
	}
	// Without --force: every run has results, old or new: all skipped.
	plain := start(t, "run", sink, "--out", copied, "-j", "1", "--progress", "lines")
	if code := plain.wait(t); code != 0 || !strings.Contains(plain.log(), "0 done, 6 skipped") {
		t.Errorf("without --force: exit %d\n%s", code, plain.log())
	}
	// The same command: the interrupted run resumes, the others train again.
	same := start(t, args...)
	if code := same.wait(t); code != 0 || !strings.Contains(same.log(), "resumed from its checkpoint at step") || !strings.Contains(same.log(), "6 done, 0 skipped") {
		t.Errorf("the same command: exit %d\n%s", code, same.log())
	}
}
