// Package reqspecgen turns an OpenAPI document, as kin-openapi loads it, into the reqspec tables
// the emulator checks requests with, and writes them as Go source. tools/genspec runs it at
// `make generate` time; the tests run it on documents of their own. The acmock binary does not
// link it.
//
// The tables say only what kin-openapi's request validation would check. A keyword that the
// emulator's checker does not implement (pattern, allOf, uniqueItems, a validated format other
// than date, date-time, int32 and int64, a default in a body, ...) fails the conversion, naming
// where it is, rather than be silently skipped.
package reqspecgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acmock/acmock/internal/reqspec"
)

// Converter converts documents, sharing the schemas they reach by the same *openapi3.Schema, and
// remembers a name for each schema (after its component, or where it was met) for Source.
type Converter struct {
	schemas  map[*openapi3.Schema]*reqspec.Schema
	names    map[*reqspec.Schema]string
	order    []*reqspec.Schema // in the order they were converted, each after the ones it uses
	taken    map[string]bool
	prefix   string
	visiting []*openapi3.Schema // to refuse recursive schemas
}

// NewConverter returns a Converter with nothing converted yet.
func NewConverter() *Converter {
	return &Converter{
		schemas: map[*openapi3.Schema]*reqspec.Schema{},
		names:   map[*reqspec.Schema]string{},
		taken:   map[string]bool{},
	}
}

// Convert converts a whole document. name names the document's file in the tables
// ("api/openapi.yaml") and prefix its schemas' variables in Source.
func (c *Converter) Convert(doc *openapi3.T, name, prefix string) (*reqspec.Document, error) {
	if doc.IsOpenAPI31OrLater() {
		return nil, errors.New("only OpenAPI 3.0 documents are supported")
	}
	c.prefix = prefix
	out := &reqspec.Document{Name: name}
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		methods := make([]string, 0, len(item.Operations()))
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		for _, method := range methods {
			op, err := c.operation(path, method, item, item.GetOperation(method))
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			out.Operations = append(out.Operations, op)
		}
	}
	return out, nil
}

func (c *Converter) operation(path, method string, item *openapi3.PathItem, op *openapi3.Operation) (reqspec.Operation, error) {
	out := reqspec.Operation{ID: lowerFirst(op.OperationID), Method: method, Path: path}
	if op.OperationID == "" {
		return out, errors.New("the operation has no operationId")
	}
	// The first security requirement of the operation says whose credentials sign it.
	out.SessionSigned = op.Security != nil && len(*op.Security) > 0 && (*op.Security)[0]["sessionHmac"] != nil
	// The order kin-openapi's ValidateRequest checks them in: the path item's parameters that the
	// operation does not override, then the operation's.
	var params openapi3.Parameters
	for _, ref := range item.Parameters {
		if op.Parameters.GetByInAndName(ref.Value.In, ref.Value.Name) == nil {
			params = append(params, ref)
		}
	}
	params = append(params, op.Parameters...)
	for _, ref := range params {
		// A parameter's schema is named after the parameter's component, when it has one.
		where := out.ID + "_" + ref.Value.Name
		if i := strings.LastIndex(ref.Ref, "/"); i >= 0 && strings.HasPrefix(ref.Ref, "#/components/") {
			where = ref.Ref[i+1:]
		}
		p, err := c.param(where, ref.Value)
		if err != nil {
			return out, fmt.Errorf("parameter %s: %w", ref.Value.Name, err)
		}
		out.Params = append(out.Params, p)
	}
	if op.RequestBody != nil {
		b, err := c.requestBody(out.ID, op.RequestBody.Value)
		if err != nil {
			return out, fmt.Errorf("request body: %w", err)
		}
		out.Body = b
	}
	return out, nil
}

func (c *Converter) param(where string, p *openapi3.Parameter) (reqspec.Param, error) {
	out := reqspec.Param{Name: p.Name, In: p.In, Required: p.Required, AllowEmptyValue: p.AllowEmptyValue}
	if p.Content != nil {
		return out, errors.New("a parameter described by content is not supported")
	}
	if p.Schema == nil || p.Schema.Value == nil {
		return out, errors.New("a parameter without a schema is not supported")
	}
	sm, err := p.SerializationMethod()
	if err != nil {
		return out, err
	}
	out.Explode = sm.Explode
	s := p.Schema.Value
	typ, err := singleType(s)
	if err != nil {
		return out, err
	}
	scalar := func(t string) bool {
		return t == openapi3.TypeString || t == openapi3.TypeInteger || t == openapi3.TypeNumber || t == openapi3.TypeBoolean
	}
	switch p.In {
	case openapi3.ParameterInPath:
		if sm.Style != openapi3.SerializationSimple || sm.Explode || !scalar(typ) {
			return out, errors.New("only a path parameter of style simple, not exploded, with a string, number or boolean schema is supported")
		}
	case openapi3.ParameterInQuery:
		if sm.Style != openapi3.SerializationForm {
			return out, fmt.Errorf("query parameter style %q is not supported (only form)", sm.Style)
		}
		if typ == openapi3.TypeArray {
			if s.Items == nil || s.Items.Value == nil {
				return out, errors.New("an array parameter needs items")
			}
			if it, err := singleType(s.Items.Value); err != nil || !scalar(it) {
				return out, errors.New("an array parameter's items must be strings, numbers or booleans")
			}
		} else if !scalar(typ) {
			return out, fmt.Errorf("a query parameter of type %q is not supported", typ)
		}
	default:
		return out, fmt.Errorf("parameters in %s are not supported (only path and query)", p.In)
	}
	if out.Schema, err = c.schema(s, p.Schema.Ref, where, true); err != nil {
		return out, err
	}
	if d := s.Default; d != nil && p.In == openapi3.ParameterInQuery {
		switch d.(type) {
		case string, float64, bool:
		default:
			return out, fmt.Errorf("default %v: only a string, number or boolean default is supported", d)
		}
		// An absent parameter takes its default, which kin-openapi validates like a value sent:
		// a default that fails its own schema would refuse every request without it.
		if err := s.VisitJSON(d); err != nil {
			return out, fmt.Errorf("the default %v does not satisfy the parameter's schema: %w", d, err)
		}
		if out.Default = fmt.Sprint(d); out.Default == "" {
			return out, errors.New("an empty default is not supported")
		}
	}
	return out, nil
}

func (c *Converter) requestBody(opID string, rb *openapi3.RequestBody) (*reqspec.Body, error) {
	out := &reqspec.Body{Required: rb.Required}
	types := make([]string, 0, len(rb.Content))
	for mt := range rb.Content {
		types = append(types, mt)
	}
	slices.Sort(types)
	if slices.Contains(types, "application/json") && len(types) > 1 {
		return nil, errors.New("a body that is JSON or something else is not supported: give application/json alone")
	}
	for _, mt := range types {
		if mt != strings.ToLower(strings.TrimSpace(mt)) || strings.ContainsAny(mt, ",*;") {
			return nil, fmt.Errorf("media type %q: only a lower-case type/subtype, without wildcards or parameters, is supported", mt)
		}
		m := reqspec.MediaType{Type: mt}
		// The checker reads JSON bodies only; another type is left to its handler.
		if ref := rb.Content[mt].Schema; ref != nil && mt == "application/json" {
			s, err := c.schema(ref.Value, ref.Ref, opID+"_body", false)
			if err != nil {
				return nil, err
			}
			m.Schema = s
		}
		out.Content = append(out.Content, m)
	}
	return out, nil
}

// allowedKeywords are the schema keywords the emulator's checker implements (or that check
// nothing: descriptions, examples).
var allowedKeywords = map[string]bool{
	"type": true, "title": true, "description": true, "example": true, "externalDocs": true,
	"deprecated": true, "nullable": true, "enum": true, "format": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"minLength": true, "maxLength": true,
	"minItems": true, "maxItems": true, "items": true,
	"properties": true, "required": true, "additionalProperties": true,
	"minProperties": true, "maxProperties": true,
	"default": true, // checked below: a parameter's is supported, a body's is not
}

// checkedFormats are the formats whose kin-openapi validation the checker implements, with the
// type they apply to.
var checkedFormats = map[string]string{
	"date": openapi3.TypeString, "date-time": openapi3.TypeString,
	"int32": openapi3.TypeInteger, "int64": openapi3.TypeInteger,
}

// schema converts s (once). ref, when not empty, is the $ref it was reached by, which names it.
func (c *Converter) schema(s *openapi3.Schema, ref, where string, isParam bool) (*reqspec.Schema, error) {
	if out, ok := c.schemas[s]; ok {
		return out, nil
	}
	if slices.Contains(c.visiting, s) {
		return nil, fmt.Errorf("%s: recursive schemas are not supported", where)
	}
	c.visiting = append(c.visiting, s)
	defer func() { c.visiting = c.visiting[:len(c.visiting)-1] }()
	fail := func(format string, args ...any) (*reqspec.Schema, error) {
		return nil, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}

	raw, err := json.Marshal(s)
	if err != nil {
		return fail("%v", err)
	}
	var keywords map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keywords); err != nil {
		return fail("%v", err)
	}
	var unsupported []string
	for k := range keywords {
		if !allowedKeywords[k] && !strings.HasPrefix(k, "x-") {
			unsupported = append(unsupported, k)
		}
	}
	if len(unsupported) > 0 {
		slices.Sort(unsupported)
		return fail("schema keyword %s not supported by the emulator's request checker", strings.Join(unsupported, ", "))
	}
	if s.Always != nil {
		return fail("boolean schemas are not supported")
	}
	if s.Default != nil && !isParam {
		return fail("a default in a request body is not supported (kin-openapi would write it into the body)")
	}
	if s.ExclusiveMin.Value != nil || s.ExclusiveMax.Value != nil {
		return fail("numeric exclusiveMinimum and exclusiveMaximum (OpenAPI 3.1) are not supported")
	}
	typ, err := singleType(s)
	if err != nil {
		return fail("%v", err)
	}

	out := &reqspec.Schema{Type: typ, Empty: s.IsEmpty(), Nullable: s.Nullable}
	if typ != "" {
		a := "a"
		switch typ {
		case openapi3.TypeArray, openapi3.TypeObject, openapi3.TypeInteger:
			a = "an"
		}
		out.TypeReason = fmt.Sprintf("value must be %s %s", a, typ)
	}
	if len(s.Enum) > 0 {
		for _, v := range s.Enum {
			switch v := v.(type) {
			case string:
				out.Enum = append(out.Enum, reqspec.Value{Kind: reqspec.StringValue, String: v})
			case float64:
				out.Enum = append(out.Enum, reqspec.Value{Kind: reqspec.NumberValue, Number: v})
			case bool:
				out.Enum = append(out.Enum, reqspec.Value{Kind: reqspec.BoolValue, Bool: v})
			default:
				return fail("enum value %v: only strings, numbers and booleans are supported", v)
			}
		}
		allowed, err := json.Marshal(s.Enum)
		if err != nil {
			return fail("%v", err)
		}
		out.EnumReason = "value is not one of the allowed values " + string(allowed)
	}
	if s.Format != "" {
		if want, ok := checkedFormats[s.Format]; ok {
			if typ != want {
				return fail("format %q on a schema of type %q is not supported", s.Format, typ)
			}
			out.Format = s.Format
		} else if formatValidated(s.Format) {
			return fail("format %q is validated by kin-openapi but not by the emulator's request checker", s.Format)
		}
		// Any other format is one kin-openapi does not check either.
	}
	if s.Min != nil {
		out.Minimum, out.HasMinimum = *s.Min, true
	}
	if s.Max != nil {
		out.Maximum, out.HasMaximum = *s.Max, true
	}
	out.ExclusiveMinimum = s.ExclusiveMin.Bool != nil && *s.ExclusiveMin.Bool && s.Min != nil
	out.ExclusiveMaximum = s.ExclusiveMax.Bool != nil && *s.ExclusiveMax.Bool && s.Max != nil
	out.MinLength = s.MinLength
	if s.MaxLength != nil {
		out.MaxLength, out.HasMaxLength = *s.MaxLength, true
	}
	out.MinItems = s.MinItems
	if s.MaxItems != nil {
		out.MaxItems, out.HasMaxItems = *s.MaxItems, true
	}
	if s.Items != nil {
		if out.Items, err = c.schema(s.Items.Value, s.Items.Ref, where+"_items", false); err != nil {
			return nil, err
		}
	}
	out.MinProperties = s.MinProps
	if s.MaxProps != nil {
		out.MaxProperties, out.HasMaxProperties = *s.MaxProps, true
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := s.Properties[n]
		if p.Value.ReadOnly || p.Value.WriteOnly {
			return fail("property %s: readOnly and writeOnly are not supported in requests", n)
		}
		ps, err := c.schema(p.Value, p.Ref, where+"_"+n, false)
		if err != nil {
			return nil, err
		}
		out.Properties = append(out.Properties, reqspec.Property{Name: n, Schema: ps})
	}
	out.Required = slices.Clone(s.Required)
	if ap := s.AdditionalProperties; ap.Schema != nil {
		if out.AdditionalProperties, err = c.schema(ap.Schema.Value, ap.Schema.Ref, where+"_additional", false); err != nil {
			return nil, err
		}
	} else if ap.Has != nil && !*ap.Has {
		out.NoAdditionalProperties = true
	}

	c.schemas[s] = out
	c.names[out] = c.varName(ref, where)
	c.order = append(c.order, out)
	return out, nil
}

// varName names a schema's variable after its component, or after where it is.
func (c *Converter) varName(ref, where string) string {
	base := where
	if i := strings.LastIndex(ref, "/"); i >= 0 && strings.HasPrefix(ref, "#/components/") {
		base = ref[i+1:]
	}
	var b strings.Builder
	b.WriteString(c.prefix)
	for _, part := range strings.FieldsFunc(base, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	name := b.String()
	for i := 2; c.taken[name]; i++ {
		name = b.String() + strconv.Itoa(i)
	}
	c.taken[name] = true
	return name
}

func singleType(s *openapi3.Schema) (string, error) {
	if s.Type == nil {
		return "", nil
	}
	if len(*s.Type) != 1 {
		return "", fmt.Errorf("type %v: a list of types is not supported", *s.Type)
	}
	return (*s.Type)[0], nil
}

func formatValidated(f string) bool {
	_, str := openapi3.SchemaStringFormats[f]
	_, num := openapi3.SchemaNumberFormats[f]
	_, integer := openapi3.SchemaIntegerFormats[f]
	return str || num || integer
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
