// Command genspec writes, at `make generate` time, the request side of acmock's OpenAPI documents
// as Go data (see package reqspec): for each operation its ID, method, path template, whose
// credentials sign it, its parameters and its request body, with the schemas they use. The
// emulator checks every request against these tables, so that it needs no OpenAPI library and
// decodes no document when it starts.
//
//	go run ./tools/genspec -out generated/acspec/acspec.gen.go API=api/openapi.yaml Control=api/control.yaml
//
// Each argument NAME=FILE becomes a variable NAME of type reqspec.Document. A schema keyword the
// emulator's checker does not implement fails the generation (see package reqspecgen).
//
// With -handlers, it writes instead, into a package that oapi-codegen's gorilla-server output is
// in, a function Handlers that returns the handler HandlerWithOptions registers for each
// operation of the one FILE, by "METHOD /path/template", without building a router: the
// emulator routes requests itself, and gorilla/mux would compile a regular expression per route
// at start-up only to be asked for the handlers back. With -direct, also a function
// StrictDirectHandlers that serves operations without the generated wrappers' plumbing (see
// package reqspecgen), for the spec whose server uses it.
//
//	go run ./tools/genspec -handlers -direct -package acapiserver -out handlers.gen.go api/openapi.yaml
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acmock/acmock/internal/reqspecgen"
)

func main() {
	out := flag.String("out", "", "the Go file to write")
	pkg := flag.String("package", "acspec", "its package name")
	handlers := flag.Bool("handlers", false, "write the generated server's handlers by operation instead")
	withDirect := flag.Bool("direct", false, "with -handlers: also write StrictDirectHandlers, for a server that serves them")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 || *handlers && flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: genspec -out FILE NAME=SPEC.yaml...\n       genspec -handlers [-direct] -package PKG -out FILE SPEC.yaml")
		os.Exit(2)
	}
	gen := generate
	if *handlers {
		gen = func(pkg string, args []string) ([]byte, error) { return generateHandlers(pkg, args, *withDirect) }
	}
	src, err := gen(*pkg, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "genspec:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genspec:", err)
		os.Exit(1)
	}
}

func generate(pkg string, args []string) ([]byte, error) {
	c := reqspecgen.NewConverter()
	var docs []reqspecgen.Named
	for _, arg := range args {
		name, file, ok := strings.Cut(arg, "=")
		if !ok || name == "" || file == "" {
			return nil, fmt.Errorf("argument %q: want NAME=FILE", arg)
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(file)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", file, err)
		}
		if err := doc.Validate(loader.Context); err != nil {
			return nil, fmt.Errorf("%s does not validate: %w", file, err)
		}
		d, err := c.Convert(doc, docName(file), strings.ToLower(name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		docs = append(docs, reqspecgen.Named{Var: name, Doc: d, From: d.Name})
	}
	return c.Source(pkg, docs)
}

func generateHandlers(pkg string, args []string, withDirect bool) ([]byte, error) {
	file := args[0]
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(file)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	d, err := reqspecgen.NewConverter().Convert(doc, docName(file), "x")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return reqspecgen.HandlersSource(pkg, d, withDirect)
}

// docName is a document's path as the repository names it: "api/openapi.yaml", not
// "../../api/openapi.yaml".
func docName(file string) string {
	file = filepath.ToSlash(filepath.Clean(file))
	for strings.HasPrefix(file, "../") {
		file = file[len("../"):]
	}
	return file
}
