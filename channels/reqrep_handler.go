package channels

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goyoton/yoton/internal/objconv"
	"github.com/goyoton/yoton/wire"
)

// This file adapts Go functions to request handlers (RepChannel.Register
// and RegisterService): it binds a request's arguments to the
// function's parameters through internal/objconv.

var (
	ctxType     = reflect.TypeFor[context.Context]()
	errType     = reflect.TypeFor[error]()
	kwargsType  = reflect.TypeFor[Kwargs]()
	handlerType = reflect.TypeFor[Handler]()
)

// convertTo converts a decoded reply to T.
func convertTo[T any](v any) (T, error) {
	if t, ok := v.(T); ok {
		return t, nil
	}
	var zero T
	rv, err := objconv.ConvertValue(v, reflect.TypeFor[T]())
	if err != nil {
		return zero, fmt.Errorf("%w (reply): %w", ErrDecode, err)
	}
	out := rv.Interface()
	if out == nil { // None for an interface type
		return zero, nil
	}
	return out.(T), nil
}

// adapt turns a Go function into a handler; see RepChannel.Register and
// RepChannel.RegisterService.
func adapt(name string, fn any) (func(context.Context, []any, *wire.Dict) (any, error), error) {
	switch h := fn.(type) {
	case Handler:
		if h == nil {
			return nil, fmt.Errorf("%w: nil handler for %q", ErrBadHandler, name)
		}
		return func(_ context.Context, args []any, kwargs *wire.Dict) (any, error) { return h(args, kwargs) }, nil
	case func([]any, *wire.Dict) (any, error):
		if h == nil {
			return nil, fmt.Errorf("%w: nil handler for %q", ErrBadHandler, name)
		}
		return func(_ context.Context, args []any, kwargs *wire.Dict) (any, error) { return h(args, kwargs) }, nil
	}
	fv := reflect.ValueOf(fn)
	if fv.Kind() != reflect.Func || fv.IsNil() {
		return nil, fmt.Errorf("%w: %q: %T is not a function", ErrBadHandler, name, fn)
	}
	ft := fv.Type()
	if ft.ConvertibleTo(handlerType) {
		h := fv.Convert(handlerType).Interface().(Handler)
		return func(_ context.Context, args []any, kwargs *wire.Dict) (any, error) { return h(args, kwargs) }, nil
	}
	a := adapter{name: name, fn: fv}
	n := ft.NumIn()
	first := 0
	if n > 0 && ft.In(0) == ctxType {
		a.withCtx, first = true, 1
	}
	last := n
	if n > first && ft.In(n-1) == kwargsType {
		a.withKwargs, last = true, n-1
	}
	if ft.IsVariadic() {
		if a.withKwargs {
			return nil, fmt.Errorf("%w: %q: a variadic function cannot take Kwargs", ErrBadHandler, name)
		}
		a.variadic = ft.In(n - 1).Elem()
		last = n - 1
	}
	if a.variadic == nil && last > first && ft.In(last-1).Kind() == reflect.Struct {
		opts := ft.In(last - 1)
		fields, err := keywordFields(opts)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrBadHandler, name, err)
		}
		a.opts, a.fields = opts, fields
		last--
	}
	for i := first; i < last; i++ {
		a.params = append(a.params, ft.In(i))
	}
	switch ft.NumOut() {
	case 0:
	case 1:
		a.errOnly = ft.Out(0) == errType
	case 2:
		if ft.Out(1) != errType {
			return nil, fmt.Errorf("%w: %q: the second result must be an error", ErrBadHandler, name)
		}
	default:
		return nil, fmt.Errorf("%w: %q: at most two results (value, error)", ErrBadHandler, name)
	}
	return a.call, nil
}

// keywordField is a field of a keyword-argument struct: the keyword that
// sets it, where it is, and whether a call must give it.
type keywordField struct {
	name     string
	index    []int
	typ      reflect.Type
	required bool
}

// keywordFields lists the fields of a keyword-argument struct type t, in
// order: exported fields (those of embedded structs too) named by their
// `yoton:"name"` tag or else by pythonName of the field name; a field
// tagged `yoton:"-"` is left out, and `yoton:"name,required"` makes a
// call without it fail.
func keywordFields(t reflect.Type) ([]keywordField, error) {
	var fields []keywordField
	seen := map[string]string{}
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous && (f.Type.Kind() == reflect.Struct ||
			f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct) {
			continue // its fields are listed on their own
		}
		if !f.IsExported() {
			continue
		}
		tag, hasTag := f.Tag.Lookup("yoton")
		if tag == "-" {
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		if !hasTag || name == "" {
			name = pythonName(f.Name)
		}
		required := false
		switch opt {
		case "":
		case "required":
			required = true
		default:
			return nil, fmt.Errorf("%s.%s: unknown yoton tag option %q", t, f.Name, opt)
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s: fields %s and %s both take keyword %q", t, prev, f.Name, name)
		}
		for i := range len(f.Index) - 1 {
			if t.FieldByIndex(f.Index[:i+1]).Type.Kind() == reflect.Pointer {
				return nil, fmt.Errorf("%s.%s: fields of embedded pointers cannot take keywords", t, f.Name)
			}
		}
		seen[name] = f.Name
		fields = append(fields, keywordField{name: name, index: f.Index, typ: f.Type, required: required})
	}
	return fields, nil
}

// adapter calls a Go function with decoded arguments.
type adapter struct {
	name       string
	fn         reflect.Value
	withCtx    bool
	withKwargs bool
	params     []reflect.Type // positional, after the ctx
	variadic   reflect.Type   // element type of the variadic parameter, or nil
	opts       reflect.Type   // the keyword-argument struct parameter, or nil
	fields     []keywordField // the fields of opts
	errOnly    bool
}

func (a *adapter) call(ctx context.Context, args []any, kwargs *wire.Dict) (any, error) {
	in, err := a.bind(ctx, args, kwargs)
	if err != nil {
		return nil, err
	}
	out := a.fn.Call(in)
	switch len(out) {
	case 0:
		return nil, nil
	case 1:
		if a.errOnly {
			err, _ := out[0].Interface().(error)
			return nil, err
		}
		return out[0].Interface(), nil
	}
	err, _ = out[1].Interface().(error)
	if err != nil {
		return nil, err
	}
	return out[0].Interface(), nil
}

// bind converts the arguments into the function's parameters. Its
// errors read as Python's TypeError messages.
func (a *adapter) bind(ctx context.Context, args []any, kwargs *wire.Dict) ([]reflect.Value, error) {
	np, nf := len(a.params), len(a.fields)
	if len(args) < np {
		missing := np - len(args)
		s := "s"
		if missing == 1 {
			s = ""
		}
		return nil, fmt.Errorf("%s() missing %d required positional argument%s", a.name, missing, s)
	}
	if len(args) > np+nf && a.variadic == nil {
		least := np // Python's count of the parameters without a default
		for _, f := range a.fields {
			if f.required {
				least++
			}
		}
		if least < np+nf {
			return nil, fmt.Errorf("%s() takes from %d to %d positional arguments but %d were given", a.name, least, np+nf, len(args))
		}
		return nil, fmt.Errorf("%s() takes %d positional argument%s but %d were given", a.name, np+nf, plural(np+nf), len(args))
	}
	if kwargs.Len() > 0 && !a.withKwargs && a.opts == nil {
		k := kwargs.Keys()[0]
		return nil, fmt.Errorf("%s() got an unexpected keyword argument %s", a.name, wire.Repr(k))
	}
	in := make([]reflect.Value, 0, len(args)+3)
	if a.withCtx {
		in = append(in, reflect.ValueOf(&ctx).Elem())
	}
	for i, arg := range args {
		if i >= np && a.variadic == nil {
			break // the keyword-argument struct's fields, below
		}
		t := a.variadic
		if i < np {
			t = a.params[i]
		}
		v, err := objconv.ConvertValue(arg, t)
		if err != nil {
			return nil, fmt.Errorf("%s() argument %d: %w", a.name, i+1, err)
		}
		in = append(in, v)
	}
	var kw Kwargs
	if a.withKwargs {
		kw = make(Kwargs, kwargs.Len())
	}
	if a.opts != nil {
		opts, err := a.bindFields(args[np:], kwargs, kw)
		if err != nil {
			return nil, err
		}
		in = append(in, opts)
	} else if a.withKwargs {
		for k, v := range kwargs.All() {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%s() keywords must be strings", a.name)
			}
			kw[s] = v
		}
	}
	if a.withKwargs {
		in = append(in, reflect.ValueOf(kw))
	}
	return in, nil
}

// bindFields fills the keyword-argument struct: the extra positional
// arguments fill its fields in order, as Python fills parameters that
// have defaults, then the keyword arguments fill the fields they name.
// Keywords no field takes go to rest when the function takes Kwargs.
func (a *adapter) bindFields(extra []any, kwargs *wire.Dict, rest Kwargs) (reflect.Value, error) {
	opts := reflect.New(a.opts).Elem()
	given := make([]bool, len(a.fields))
	set := func(i int, v any) error {
		f := a.fields[i]
		cv, err := objconv.ConvertValue(v, f.typ)
		if err != nil {
			return fmt.Errorf("%s() argument '%s': %w", a.name, f.name, err)
		}
		opts.FieldByIndex(f.index).Set(cv)
		given[i] = true
		return nil
	}
	for i, v := range extra {
		if err := set(i, v); err != nil {
			return reflect.Value{}, err
		}
	}
	for k, v := range kwargs.All() {
		s, ok := k.(string)
		if !ok {
			return reflect.Value{}, fmt.Errorf("%s() keywords must be strings", a.name)
		}
		i := slices.IndexFunc(a.fields, func(f keywordField) bool { return f.name == s })
		switch {
		case i >= 0 && given[i]:
			return reflect.Value{}, fmt.Errorf("%s() got multiple values for argument '%s'", a.name, s)
		case i >= 0:
			if err := set(i, v); err != nil {
				return reflect.Value{}, err
			}
		case rest != nil:
			rest[s] = v
		default:
			return reflect.Value{}, fmt.Errorf("%s() got an unexpected keyword argument %s", a.name, wire.Repr(s))
		}
	}
	var missing []string
	for i, f := range a.fields {
		if f.required && !given[i] {
			missing = append(missing, "'"+f.name+"'")
		}
	}
	if len(missing) > 0 {
		return reflect.Value{}, fmt.Errorf("%s() missing %d required positional argument%s: %s", a.name, len(missing), plural(len(missing)), pyList(missing))
	}
	return opts, nil
}

// pyList joins names as Python's argument errors do: 'a', 'a' and 'b',
// 'a', 'b', and 'c'.
func pyList(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
