//go:build xla

package backend

// The XLA backend (go-xla, PJRT plugins for CPU, CUDA or TPU), compiled in
// with `go build -tags xla` (`make build-xla`); cgo is needed to build it, the
// plugin (.so) only at run time. Plugins are never downloaded: go-xla's
// auto-installer is not imported, so an offline machine gets a clear error.
import _ "github.com/gomlx/go-xla/compute/xla" // registers "xla" (and stablehlo, shlo, hlo)
