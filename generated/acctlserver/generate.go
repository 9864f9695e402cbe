// Package acctlserver is the server side of the acmock control API, generated from
// api/control.yaml: a gorilla/mux strict server interface (StrictServerInterface, its request and
// response objects, HandlerWithOptions) and the embedded spec (GetSwagger). Its models are those
// of package acctl, which a client imports alone.
//
//	strict := acctlserver.NewStrictHandlerWithOptions(impl, nil, acctlserver.StrictHTTPServerOptions{})
//	acctlserver.HandlerWithOptions(strict, acctlserver.GorillaServerOptions{BaseRouter: r})
//	spec, _ := acctlserver.GetSwagger()
//
// Everything here but this file and the *.cfg.yaml files is generated: run `make generate`.
package acctlserver

//go:generate go tool oapi-codegen -config server.cfg.yaml ../../api/control.yaml
//go:generate go tool oapi-codegen -config spec.cfg.yaml ../../api/control.yaml
