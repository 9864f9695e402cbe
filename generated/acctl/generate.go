// Package acctl is the acmock control API generated from api/control.yaml: models, a typed
// client (ClientWithResponses), a gorilla/mux strict server interface and the embedded spec.
//
//	c, _ := acctl.NewClientWithResponses("http://127.0.0.1:8080")
//	res, _ := c.AdvanceClockWithResponse(ctx, acctl.AdvanceRequest{Duration: "90s"})
//	fmt.Println(res.JSON200.Now)
//
// Everything here but this file and the *.cfg.yaml files is generated: run `make generate`.
package acctl

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../api/control.yaml
//go:generate go tool oapi-codegen -config client.cfg.yaml ../../api/control.yaml
//go:generate go tool oapi-codegen -config server.cfg.yaml ../../api/control.yaml
