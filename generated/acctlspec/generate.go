// Package acctlspec is api/control.yaml embedded, for kin-openapi: GetSwagger returns the
// document, GetSpecJSON its JSON. It links kin-openapi, so the acmock binary does not import it;
// the emulator checks requests with the tables of package acspec instead. Tests and acmocktest
// use it to hold the emulator to the spec (see internal/speccheck).
//
//	spec, _ := acctlspec.GetSwagger()
//
// Everything here but this file and spec.cfg.yaml is generated: run `make generate`.
package acctlspec

//go:generate go tool oapi-codegen -config spec.cfg.yaml ../../api/control.yaml
