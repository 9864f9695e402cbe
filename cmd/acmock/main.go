// Command acmock runs the Activeconnect emulator.
//
//	acmock                         # http://127.0.0.1:8080 with the demo application
//	acmock --scenario scenarios/deny.yaml --clock virtual
package main

import "os"

func main() {
	startMemoryPolicy() // see memlimit.go
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}
