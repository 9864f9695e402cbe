// Package acapiserver is the server side of the Activeconnect API, generated from
// api/openapi.yaml: a gorilla/mux strict server interface (StrictServerInterface, its request and
// response objects, HandlerWithOptions) and the embedded spec (GetSwagger) that requests are
// validated against. Its models are those of package acapi, which a client imports alone.
//
//	strict := acapiserver.NewStrictHandlerWithOptions(impl, nil, acapiserver.StrictHTTPServerOptions{})
//	acapiserver.HandlerWithOptions(strict, acapiserver.GorillaServerOptions{BaseRouter: r})
//	spec, _ := acapiserver.GetSwagger()
//
// Everything here but this file and the *.cfg.yaml files is generated: run `make generate`.
package acapiserver

//go:generate go tool oapi-codegen -config server.cfg.yaml ../../api/openapi.yaml
//go:generate go tool oapi-codegen -config spec.cfg.yaml ../../api/openapi.yaml
