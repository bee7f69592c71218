package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/goyoton/yoton/wire"
)

// fromJSON converts JSON text to a value of the object codec: objects
// become *wire.Dict (keys in their order), arrays []any, numbers int64
// when they are integers written without fraction or exponent (as
// Python's json reads them) and float64 otherwise.
func fromJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := readJSON(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: data after the value")
	}
	return v, nil
}

func readJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			list := []any{}
			for dec.More() {
				v, err := readJSON(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token() // ']'
			return list, err
		case '{':
			d := wire.NewDict()
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("invalid JSON: %w", err)
				}
				v, err := readJSON(dec)
				if err != nil {
					return nil, err
				}
				if err := d.Set(k, v); err != nil { // k is a string
					return nil, err
				}
			}
			_, err := dec.Token() // '}'
			return d, err
		}
		return nil, fmt.Errorf("invalid JSON: unexpected %v", t)
	case json.Number:
		if !strings.ContainsAny(t.String(), ".eE") {
			if i, err := t.Int64(); err == nil {
				return i, nil
			}
		}
		f, err := t.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", t, err)
		}
		return f, nil
	default: // string, bool, nil
		return t, nil
	}
}

// parseArg reads a call argument: JSON when it parses, else the string.
func parseArg(s string) any {
	if v, err := fromJSON(s); err == nil {
		return v
	}
	return s
}

// toJSON writes a value of the object codec as JSON: tuples as arrays,
// dict keys that are not strings as their Python repr, and what JSON
// cannot hold (NaN, infinities, integers of other types) as its repr
// in a string.
func toJSON(v any) []byte { return appendJSON(nil, v) }

func appendJSON(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, t)
	case int64:
		return strconv.AppendInt(b, t, 10)
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return appendString(b, wire.Repr(t))
		}
		return strconv.AppendFloat(b, t, 'g', -1, 64)
	case string:
		return appendString(b, t)
	case []any:
		return appendList(b, t)
	case wire.Tuple:
		return appendList(b, t)
	case *wire.Dict:
		b = append(b, '{')
		i := 0
		for k, val := range t.All() {
			if i > 0 {
				b = append(b, ',')
			}
			i++
			ks, ok := k.(string)
			if !ok {
				ks = wire.Repr(k)
			}
			b = appendString(b, ks)
			b = append(b, ':')
			b = appendJSON(b, val)
		}
		return append(b, '}')
	default:
		return appendString(b, wire.Repr(v))
	}
}

func appendList(b []byte, l []any) []byte {
	b = append(b, '[')
	for i, v := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSON(b, v)
	}
	return append(b, ']')
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
