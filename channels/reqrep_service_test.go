package channels_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/internal/testkit/reactorkit"
	"github.com/goyoton/yoton/wire"
)

// calcService is a Go port of a Python replier such as
//
//	class Calc(yoton.RepChannel):
//	    def add_numbers(self, a, b): return a + b
//	    def greet(self, name, greeting="Hello", punctuation="!"): ...
//	    def area(self, width, height): return width * height
//	    def scaled(self, x, scale=1, **kwargs): ...
type calcService struct {
	mu    sync.Mutex // not embedded: its methods would be served
	calls int
}

func (s *calcService) count() {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
}

func (s *calcService) AddNumbers(a, b int) int { s.count(); return a + b }

type greetOptions struct {
	Greeting    string `yoton:"greeting"`
	Punctuation *string
}

func (s *calcService) Greet(name string, o greetOptions) string {
	s.count()
	if o.Greeting == "" {
		o.Greeting = "Hello"
	}
	p := "!"
	if o.Punctuation != nil {
		p = *o.Punctuation
	}
	return o.Greeting + ", " + name + p
}

type areaArgs struct {
	Width  int `yoton:"width,required"`
	Height int `yoton:"height,required"`
}

func (s *calcService) Area(a areaArgs) int { s.count(); return a.Width * a.Height }

type scaleOptions struct {
	Scale  *float64 `yoton:"scale"`
	Ignore string   `yoton:"-"`
}

// Scaled returns [x * scale, sorted((key, value) of the other keywords)].
func (s *calcService) Scaled(ctx context.Context, x float64, o scaleOptions, rest channels.Kwargs) ([]any, error) {
	s.count()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	scale := 1.0
	if o.Scale != nil {
		scale = *o.Scale
	}
	keys := make([]string, 0, len(rest))
	for k := range rest {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	items := []any{}
	for _, k := range keys {
		items = append(items, wire.Tuple{k, rest[k]})
	}
	return []any{x * scale, items}, nil
}

func (s *calcService) GetID() string { return "calc" }

func (s *calcService) Fail(msg string) error { return errors.New(msg) }

// TestRegisterService serves every exported method of a value under
// its Python name, with keyword arguments bound to struct fields.
func TestRegisterService(t *testing.T) {
	for _, m := range repModes {
		t.Run(m.String(), func(t *testing.T) {
			r := reactorkit.NewReactor(t)
			a, b := reactorkit.Pair(t, r)
			req := newReq(t, a, "calc")
			rep := newRep(t, b, "calc", m)
			svc := &calcService{}
			require.NoError(t, rep.RegisterService(svc))

			tests := []struct {
				name   string
				method string
				args   []any
				kwargs channels.Kwargs
				want   any
				err    string // the remote error's message
			}{
				{name: "positional", method: "add_numbers", args: []any{3, 4}, want: int64(7)},
				{name: "acronym", method: "get_id", want: "calc"},
				{name: "defaults", method: "greet", args: []any{"bob"}, want: "Hello, bob!"},
				{name: "keyword", method: "greet", args: []any{"bob"}, kwargs: channels.Kwargs{"greeting": "Hi"}, want: "Hi, bob!"},
				{name: "untagged field keyword", method: "greet", args: []any{"bob"}, kwargs: channels.Kwargs{"punctuation": "?"}, want: "Hello, bob?"},
				{name: "fields filled positionally", method: "greet", args: []any{"bob", "Hi", "."}, want: "Hi, bob."},
				{name: "pointer field given None", method: "greet", args: []any{"bob"}, kwargs: channels.Kwargs{"punctuation": nil}, want: "Hello, bob!"},
				{name: "all fields by keyword", method: "area", kwargs: channels.Kwargs{"width": 2, "height": 3}, want: int64(6)},
				{name: "required by position", method: "area", args: []any{2, 3}, want: int64(6)},
				{name: "mixed", method: "area", args: []any{2}, kwargs: channels.Kwargs{"height": 5}, want: int64(10)},
				{name: "ctx, struct and rest", method: "scaled", args: []any{2}, kwargs: channels.Kwargs{"scale": 3, "z": 1, "a": "b"},
					want: []any{6.0, []any{wire.Tuple{"a", "b"}, wire.Tuple{"z", int64(1)}}}},
				{name: "ignored field is no keyword", method: "scaled", args: []any{2}, kwargs: channels.Kwargs{"ignore": "x"},
					want: []any{2.0, []any{wire.Tuple{"ignore", "x"}}}},
				{name: "error result", method: "fail", args: []any{"it broke"}, err: "it broke"},
				{name: "multiple values", method: "greet", args: []any{"bob", "Hi"}, kwargs: channels.Kwargs{"greeting": "Yo"},
					err: "greet() got multiple values for argument 'greeting'"},
				{name: "unexpected keyword", method: "greet", args: []any{"bob"}, kwargs: channels.Kwargs{"mood": "x"},
					err: "greet() got an unexpected keyword argument 'mood'"},
				{name: "too many", method: "greet", args: []any{"bob", "a", "b", "c"},
					err: "greet() takes from 1 to 3 positional arguments but 4 were given"},
				{name: "positional parameter by keyword", method: "greet", kwargs: channels.Kwargs{"name": "bob"},
					err: "greet() missing 1 required positional argument"},
				{name: "too many, no defaults", method: "area", args: []any{1, 2, 3},
					err: "area() takes 2 positional arguments but 3 were given"},
				{name: "missing one required", method: "area", args: []any{2},
					err: "area() missing 1 required positional argument: 'height'"},
				{name: "missing two required", method: "area",
					err: "area() missing 2 required positional arguments: 'width' and 'height'"},
				{name: "field conversion", method: "area", args: []any{2, "x"},
					err: "area() argument 'height': cannot convert 'x' (str) to int"},
				{name: "unexported method", method: "count", err: "Method 'count' not implemented."},
				{name: "Go name", method: "AddNumbers", err: "Method 'AddNumbers' not implemented."},
			}
			for _, tt := range tests {
				f := call(t, req, tt.method, tt.args, tt.kwargs)
				if tt.err != "" {
					assert.Equal(t, tt.err, remoteMessage(t, f), tt.name)
					continue
				}
				assert.Equal(t, tt.want, result(t, f), tt.name)
			}
			ctx := testkit.Context(t)
			s, err := channels.Call[string](ctx, req, "greet", "ann", channels.Kwargs{"greeting": "Bye"})
			require.NoError(t, err)
			assert.Equal(t, "Bye, ann!", s)
			// The built-in echo stays: calcService has no Echo.
			assert.Equal(t, wire.Tuple{"hi", hexID(b)}, result(t, call(t, req, "echo", []any{"hi"}, nil)))
		})
	}
}

type noMethods struct{}

type pointerMethods struct{}

func (*pointerMethods) Ping() string { return "pong" }

type badResults struct{}

func (badResults) Ok() int                  { return 1 }
func (badResults) Three() (int, int, error) { return 0, 0, nil }

type collide struct{}

func (collide) GetID() string { return "a" }
func (collide) GetId() string { return "b" }

type badTag struct {
	X int `yoton:"x,optional"`
}

type badTagService struct{}

func (badTagService) Ok() int   { return 1 }
func (badTagService) Do(badTag) {}

type dupKeyword struct {
	A int `yoton:"same"`
	B int `yoton:"same"`
}

type dupKeywordService struct{}

func (dupKeywordService) Do(dupKeyword) {}

type Embedded struct{ Deep int }

type embeddedPtr struct{ *Embedded }

type embeddedPtrService struct{}

func (embeddedPtrService) Do(embeddedPtr) {}

// TestRegisterServiceRefuses: nothing to register, or a method that
// cannot be served, is an error wrapping ErrBadHandler, and nothing is
// registered.
func TestRegisterServiceRefuses(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "svc")
	rep := newRep(t, b, "svc", channels.RepEvent)
	var nilSvc *calcService
	tests := []struct {
		name    string
		service any
	}{
		{name: "nil", service: nil},
		{name: "nil pointer", service: nilSvc},
		{name: "no methods", service: noMethods{}},
		{name: "pointer receivers, value given", service: pointerMethods{}},
		{name: "not a function signature", service: badResults{}},
		{name: "same Python name", service: collide{}},
		{name: "unknown tag option", service: badTagService{}},
		{name: "two fields, one keyword", service: dupKeywordService{}},
		{name: "embedded pointer", service: embeddedPtrService{}},
	}
	for _, tt := range tests {
		err := rep.RegisterService(tt.service)
		require.ErrorIs(t, err, channels.ErrBadHandler, tt.name)
	}
	err := rep.RegisterService(pointerMethods{})
	assert.Contains(t, err.Error(), "pass a pointer")
	for _, method := range []string{"ok", "get_id", "ping"} {
		assert.Equal(t, fmt.Sprintf("Method '%s' not implemented.", method), remoteMessage(t, call(t, req, method, nil, nil)))
	}

	require.NoError(t, rep.RegisterService(&pointerMethods{}))
	assert.Equal(t, "pong", result(t, call(t, req, "ping", nil, nil)))
}

// TestRegisterKeywordStruct: Register adapts a function with a keyword
// struct parameter as RegisterService adapts a method.
func TestRegisterKeywordStruct(t *testing.T) {
	r := reactorkit.NewReactor(t)
	a, b := reactorkit.Pair(t, r)
	req := newReq(t, a, "fn")
	rep := newRep(t, b, "fn", channels.RepEvent)
	require.NoError(t, rep.Register("greet", func(name string, o greetOptions) string {
		return o.Greeting + " " + name
	}))
	assert.Equal(t, "Hi bob", result(t, call(t, req, "greet", []any{"bob"}, channels.Kwargs{"greeting": "Hi"})))
	require.ErrorIs(t, rep.Register("bad", func(badTag) {}), channels.ErrBadHandler)
}
