// Package acapi is the Activeconnect API generated from api/openapi.yaml: models, a typed client
// (ClientWithResponses), a gorilla/mux strict server interface and the embedded spec.
//
//	c, _ := acapi.NewClientWithResponses(baseURL, acapi.WithRequestEditorFn(signer.SignRequest))
//	res, _ := c.HasRegisteredMobileDeviceWithResponse(ctx, appID, "alice")
//	fmt.Println(res.JSON200.DeviceRegistered)
//
// Everything here but this file and the *.cfg.yaml files is generated: run `make generate`.
package acapi

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../api/openapi.yaml
//go:generate go tool oapi-codegen -config client.cfg.yaml ../../api/openapi.yaml
//go:generate go tool oapi-codegen -config server.cfg.yaml ../../api/openapi.yaml
