//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package runner

import "os"

// terminalWidth is the terminal's width in columns, or 0 when unknown.
func terminalWidth(f *os.File) int { return 0 }
