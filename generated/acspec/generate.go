// Package acspec is the request side of api/openapi.yaml (API) and api/control.yaml (Control), as
// the reqspec tables tools/genspec writes: each operation's ID, method, path template and signing
// credentials, its parameters and request body, with their schemas. The emulator routes and checks
// requests with them, so that it links no OpenAPI library and decodes no document when it starts.
// The tables are static data: they cost nothing at start-up.
//
//	for _, op := range acspec.API.Operations {
//		fmt.Println(op.ID, op.Method, op.Path)
//	}
//
// Everything here but this file is generated: run `make generate`.
package acspec

//go:generate go run ../../tools/genspec -out acspec.gen.go API=../../api/openapi.yaml Control=../../api/control.yaml
