// Package acapiserver is the server side of the Activeconnect API, generated from
// api/openapi.yaml: a gorilla/mux strict server interface (StrictServerInterface, its request and
// response objects, HandlerWithOptions). Its models are those of package acapi, which a client
// imports alone; the embedded spec is in package acapispec, and the tables requests are checked
// with in package acspec.
//
//	strict := acapiserver.NewStrictHandlerWithOptions(impl, nil, acapiserver.StrictHTTPServerOptions{})
//	acapiserver.HandlerWithOptions(strict, acapiserver.GorillaServerOptions{BaseRouter: r})
//
// Everything here but this file and the *.cfg.yaml files is generated: run `make generate`.
package acapiserver

//go:generate go tool oapi-codegen -config server.cfg.yaml ../../api/openapi.yaml
//go:generate go run ../../tools/genspec -handlers -direct -package acapiserver -out handlers.gen.go ../../api/openapi.yaml
