// Package acctl is the client side of the acmock control API, generated from api/control.yaml:
// models and a typed client (ClientWithResponses). It imports only the standard library and the
// oapi-codegen runtime; the emulator's side (strict server interface, embedded spec) is in
// package acctlserver.
//
//	c, _ := acctl.NewClientWithResponses("http://127.0.0.1:8080")
//	res, _ := c.AdvanceClockWithResponse(ctx, acctl.AdvanceRequest{Duration: "90s"})
//	fmt.Println(res.JSON200.Now)
//
// Everything here but this file and the *.cfg.yaml files is generated: run `make generate`.
package acctl

//go:generate go tool oapi-codegen -config types.cfg.yaml ../../api/control.yaml
//go:generate go tool oapi-codegen -config client.cfg.yaml ../../api/control.yaml
