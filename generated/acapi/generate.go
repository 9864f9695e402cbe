// Package acapi is the client side of the Activeconnect API, generated from api/openapi.yaml:
// models and a typed client (ClientWithResponses). It imports only the standard library and the
// oapi-codegen runtime, so a program that calls the API links no server code; the emulator's
// side (strict server interface, embedded spec) is in package acapiserver.
//
//	c, _ := acapi.NewClientWithResponses(baseURL, acapi.WithRequestEditorFn(signer.SignRequest))
//	res, _ := c.HasRegisteredMobileDeviceWithResponse(ctx, appID, "alice")
//	fmt.Println(res.JSON200.DeviceRegistered)
//
// Everything here but this file and the *.cfg.yaml files is generated: run `make generate`.
package acapi

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../api/openapi.yaml
//go:generate go tool oapi-codegen -config client.cfg.yaml ../../api/openapi.yaml
