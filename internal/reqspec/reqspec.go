// Package reqspec describes the request side of an OpenAPI document as plain Go data: for each
// operation its ID, method, path template and signing credentials, its parameters and request
// body, with the schemas they use, holding only what a request must satisfy. generated/acspec
// holds acmock's two documents in this form, written by tools/genspec at `make generate` time,
// and the emulator checks every request against them: it needs no OpenAPI library and decodes no
// document when it starts.
package reqspec

// Document is the request side of an OpenAPI document: what a request of each operation must
// satisfy. It holds only what kin-openapi's request validation checks.
type Document struct {
	Name       string      // the document's file, e.g. "api/openapi.yaml"
	Operations []Operation // by path template, then method
}

// Operation is one operation of a document.
type Operation struct {
	ID     string // the operationId, its first letter in lower case
	Method string // GET, POST, ...
	Path   string // the path template, e.g. "/management/add_users/{application_id}"
	// SessionSigned is set when the operation's first security requirement is sessionHmac: its
	// requests are signed with a session's credentials rather than the application's.
	SessionSigned bool
	Params        []Param // in the order they are checked
	Body          *Body   // nil when the operation takes no body
}

// Param is a parameter in the path or the query.
type Param struct {
	Name            string
	In              string // "path" or "query"
	Required        bool
	AllowEmptyValue bool
	// Explode is set for a query array sent as one pair per item; when false, it is one pair
	// whose value separates the items with commas.
	Explode bool
	Schema  *Schema
	// Default is the value an absent query parameter takes, as text ("" for none).
	Default string
}

// Body is a request body.
type Body struct {
	Required bool
	Content  []MediaType // by type
}

// MediaType is one media type a body may be sent as, with its schema (nil: none declared).
type MediaType struct {
	Type   string
	Schema *Schema
}

// Schema is a JSON schema, with the keywords the request checker implements. The zero value
// of each field checks nothing.
type Schema struct {
	Type       string // "string", "integer", "number", "boolean", "array", "object", or "" for any
	TypeReason string // the reason given when a value is not of Type
	Empty      bool   // the schema has no keyword that checks anything: any value but null passes
	Nullable   bool

	Enum       []Value // when not empty, the values allowed
	EnumReason string

	Format string // date, date-time (strings), int32, int64 (integers): the formats checked

	Minimum, Maximum                   float64
	HasMinimum, HasMaximum             bool
	ExclusiveMinimum, ExclusiveMaximum bool

	MinLength    uint64 // in characters
	MaxLength    uint64
	HasMaxLength bool

	MinItems    uint64
	MaxItems    uint64
	HasMaxItems bool
	Items       *Schema

	MinProperties    uint64
	MaxProperties    uint64
	HasMaxProperties bool
	Properties       []Property // by name
	Required         []string
	// AdditionalProperties is the schema of the properties that Properties does not name;
	// NoAdditionalProperties refuses them.
	AdditionalProperties   *Schema
	NoAdditionalProperties bool
}

// Property is a named property of an object schema.
type Property struct {
	Name   string
	Schema *Schema
}

// ValueKind says which field of a Value holds it.
type ValueKind uint8

const (
	StringValue ValueKind = iota
	NumberValue
	BoolValue
)

// Value is a value of an enum.
type Value struct {
	Kind   ValueKind
	String string
	Number float64
	Bool   bool
}

// Property returns the property of s named name, or nil.
func (s *Schema) Property(name string) *Schema {
	for i := range s.Properties {
		if s.Properties[i].Name == name {
			return s.Properties[i].Schema
		}
	}
	return nil
}
