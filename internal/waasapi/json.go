// Package waasapi holds the wire types of the WaaS REST API as the official
// Go client (waas-client-library-go v1.0.8) speaks it: lowerCamelCase JSON,
// zero values omitted, enums emitted as names and accepted as names or
// numbers, 64-bit integers as strings, bytes as standard base64.
//
// Both our client (internal/waas) and the emulator (internal/sandbox) use
// these types; compatibility with the official client is checked by tests
// that drive the sandbox with the official library itself.
package waasapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// Uint64 is a proto uint64: protojson writes it as a decimal string and
// accepts a string or a number.
type Uint64 uint64

func (u Uint64) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatUint(uint64(u), 10) + `"`), nil
}

func (u *Uint64) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" {
		return nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("invalid uint64 %q", truncate(s))
	}
	*u = Uint64(v)
	return nil
}

// Bytes is a proto bytes field: standard base64 with padding on output;
// standard or URL-safe, padded or not, on input (as protojson accepts).
type Bytes []byte

func (b Bytes) MarshalJSON() ([]byte, error) {
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

func (b *Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("bytes field must be a base64 string")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if v, err := enc.DecodeString(s); err == nil {
			*b = v
			return nil
		}
	}
	return fmt.Errorf("bytes field is not valid base64")
}

// enum is the shared behaviour of proto enums: emitted as names, accepted as
// names or numbers; unknown numbers are kept (proto3 open enums).
type enumNames []string

func (n enumNames) marshal(v int32) ([]byte, error) {
	if v >= 0 && int(v) < len(n) {
		return json.Marshal(n[v])
	}
	return []byte(strconv.Itoa(int(v))), nil
}

func (n enumNames) unmarshal(data []byte, typeName string) (int32, error) {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return 0, err
		}
		for i, name := range n {
			if name == s {
				return int32(i), nil
			}
		}
		return 0, fmt.Errorf("invalid value for enum %s: %q", typeName, truncate(s))
	}
	v, err := strconv.ParseInt(string(data), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid value for enum %s", typeName)
	}
	return int32(v), nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
