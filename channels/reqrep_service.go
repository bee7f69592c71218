package channels

import (
	"fmt"
	"reflect"
	"strings"
	"unicode"
)

// RegisterService registers every exported method of v as a handler, as
// net/rpc's Register does, under its Python-style name (see below): the
// Go form of a Python RepChannel subclass, whose methods are what it
// serves. Pass a pointer to get the methods with pointer receivers too.
// Each method is adapted as Register adapts a function (optional
// context.Context first, positional parameters, optional Kwargs last,
// results value and/or error), and may take keyword arguments through a
// struct parameter:
//
//	type GreetOptions struct {
//		Greeting    string `yoton:"greeting"`
//		Punctuation string // keyword "punctuation"
//	}
//	func (s *Svc) Greet(name string, o GreetOptions) string
//
// serves Python's greet(name, greeting="Hello", punctuation="!"):
//
//   - A struct parameter after the positional ones (before a Kwargs
//     parameter, if any; not with a variadic one) takes the keyword
//     arguments. Its exported fields, those of embedded structs
//     included, are keywords named by their `yoton:"name"` tag or else
//     by the name rule below; `yoton:"-"` leaves a field out.
//   - Positional arguments beyond the positional parameters fill the
//     fields in order, as Python fills parameters that have defaults, so
//     greet("bob", "Hi") works too; naming a field already filled is
//     Python's "got multiple values for argument" error.
//   - A field the call does not give keeps its zero value: write the
//     Python default in the method when it differs (if o.Greeting == ""),
//     or use a pointer field, nil when not given (or given None).
//     `yoton:"name,required"` makes a call that does not give it fail
//     with Python's "missing 1 required positional argument: 'name'".
//   - Keywords no field takes go to a trailing Kwargs parameter, if
//     there is one, and are Python's "unexpected keyword argument" error
//     otherwise.
//   - The other parameters are positional only (Go keeps no parameter
//     names at run time): greet(name="bob") fails unless name is a field.
//
// Register adapts a function with such a struct parameter the same way.
// Argument mismatches are reported to the requester in the words of
// Python's TypeError, counting arguments as for a function (Python's
// messages about methods count self too).
//
// The Python name of a method is its Go name in snake_case: an
// underscore goes before every upper-case letter that follows a
// lower-case letter or a digit, and before the last upper-case letter
// of a run that a lower-case letter follows (the end of an acronym);
// then everything is lower-cased. AddNumbers is served as add_numbers,
// GetID (and GetId) as get_id, HTTPStatus as http_status, Add2Numbers
// as add2_numbers, Do_It as do_it, Echo as echo (replacing the built-in
// echo). The Go name itself is not served.
//
// Every exported method is served, promoted ones included (a method of
// an embedded sync.Mutex would let any peer call lock): keep helpers off
// the type. Python serves any attribute of the channel; Go serves only
// these. RegisterService registers nothing and returns an error wrapping
// ErrBadHandler when v has no exported method, when a method cannot be
// adapted, or when two methods have the same Python name. Handlers
// registered earlier under other names stay; Register and Handle can
// add or replace some afterwards. Safe for concurrent use.
func (c *RepChannel) RegisterService(v any) error {
	if v == nil {
		return fmt.Errorf("%w: nil service", ErrBadHandler)
	}
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	if rt.Kind() == reflect.Pointer && rv.IsNil() {
		return fmt.Errorf("%w: nil %s service", ErrBadHandler, rt)
	}
	type method struct {
		name string
		fn   any
	}
	var methods []method
	goName := map[string]string{}
	for i := range rt.NumMethod() {
		m := rt.Method(i)
		if !m.IsExported() {
			continue
		}
		name := pythonName(m.Name)
		if prev, dup := goName[name]; dup {
			return fmt.Errorf("%w: %s: methods %s and %s are both served as %q", ErrBadHandler, rt, prev, m.Name, name)
		}
		goName[name] = m.Name
		fn := rv.Method(i).Interface()
		if _, err := adapt(name, fn); err != nil {
			return fmt.Errorf("%s.%s: %w", rt, m.Name, err)
		}
		methods = append(methods, method{name: name, fn: fn})
	}
	if len(methods) == 0 {
		hint := ""
		if rt.Kind() != reflect.Pointer && reflect.PointerTo(rt).NumMethod() > 0 {
			hint = " (its methods have pointer receivers: pass a pointer)"
		}
		return fmt.Errorf("%w: %s has no exported methods%s", ErrBadHandler, rt, hint)
	}
	for _, m := range methods {
		if err := c.Register(m.name, m.fn); err != nil {
			return err // not reached: adapt accepted every method above
		}
	}
	return nil
}

// pythonName returns the snake_case name of a Go identifier; see
// RepChannel.RegisterService for the rule.
func pythonName(goName string) string {
	runes := []rune(goName)
	var b strings.Builder
	b.Grow(len(goName) + 4)
	for i, r := range runes {
		if i > 0 && unicode.IsUpper(r) {
			prev := runes[i-1]
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
