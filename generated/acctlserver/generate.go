// Package acctlserver is the server side of the acmock control API, generated from
// api/control.yaml: a gorilla/mux strict server interface (StrictServerInterface, its request and
// response objects, HandlerWithOptions). Its models are those of package acctl, which a client
// imports alone; the embedded spec is in package acctlspec.
//
//	strict := acctlserver.NewStrictHandlerWithOptions(impl, nil, acctlserver.StrictHTTPServerOptions{})
//	acctlserver.HandlerWithOptions(strict, acctlserver.GorillaServerOptions{BaseRouter: r})
//
// Everything here but this file and the *.cfg.yaml files is generated: run `make generate`.
package acctlserver

//go:generate go tool oapi-codegen -config server.cfg.yaml ../../api/control.yaml
//go:generate go run ../../tools/genspec -handlers -package acctlserver -out handlers.gen.go ../../api/control.yaml
