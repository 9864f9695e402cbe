// Command acmock runs the Activeconnect emulator.
//
//	acmock                         # http://127.0.0.1:8080 with the demo application
//	acmock --scenario scenarios/deny.yaml --clock virtual
package main

import (
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT says otherwise. Under
// load most of the heap is short-lived request garbage; the limit makes the collector run before
// that garbage doubles the resident size, for a few percent of throughput. It is soft: the
// emulator keeps working above it.
const defaultMemoryLimit = 36 << 20

func main() {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}
