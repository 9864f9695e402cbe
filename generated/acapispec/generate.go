// Package acapispec is api/openapi.yaml embedded, for kin-openapi: GetSwagger returns the
// document, GetSpecJSON its JSON. It links kin-openapi, so the acmock binary does not import it;
// the emulator checks requests with the tables of package acspec instead. Tests and acmocktest
// use it to hold the emulator to the spec (see internal/speccheck).
//
//	spec, _ := acapispec.GetSwagger()
//
// Everything here but this file and spec.cfg.yaml is generated: run `make generate`.
package acapispec

//go:generate go tool oapi-codegen -config spec.cfg.yaml ../../api/openapi.yaml
