// Package scenarios embeds the scenario files shipped with acmock, so the binary carries its
// built-in demo (default.yaml) and tests can find every shipped scenario.
//
//	data, _ := scenarios.FS.ReadFile("default.yaml")
//	sc, err := scenario.Parse("default.yaml", data)
package scenarios

import "embed"

// FS holds every *.yaml file of this directory.
//
//go:embed *.yaml
var FS embed.FS
