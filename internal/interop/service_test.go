package interop

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/wire"
)

// serviceRep is the Go port of peer.py's ServiceRep (op service_rep):
//
//	def add_numbers(self, a, b)
//	def greet(self, name, greeting="Hello", punctuation="!")
//	def area(self, width, height)
//	def scaled(self, x, scale=1, **kwargs)
type serviceRep struct{}

func (serviceRep) AddNumbers(a, b int) int { return a + b }

type greetKw struct {
	Greeting    *string `yoton:"greeting"`
	Punctuation *string `yoton:"punctuation"`
}

func (serviceRep) Greet(name string, kw greetKw) string {
	g, p := "Hello", "!"
	if kw.Greeting != nil {
		g = *kw.Greeting
	}
	if kw.Punctuation != nil {
		p = *kw.Punctuation
	}
	return g + ", " + name + p
}

type areaKw struct {
	Width  int `yoton:"width,required"`
	Height int `yoton:"height,required"`
}

func (serviceRep) Area(kw areaKw) int { return kw.Width * kw.Height }

type scaledKw struct {
	Scale *int `yoton:"scale"`
}

func (serviceRep) Scaled(x int, kw scaledKw, rest channels.Kwargs) []any {
	scale := 1
	if kw.Scale != nil {
		scale = *kw.Scale
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
	return []any{x * scale, items}
}

// TestRegisterServicePython: a Python requester calls a Go service
// registered with RegisterService, with positional and keyword
// arguments, and a Go requester makes the same calls to the same
// replier written in Python: the outcomes match, Python's TypeErrors
// included, except where Go cannot do what Python does (listed).
func TestRegisterServicePython(t *testing.T) {
	for _, mode := range []channels.RepMode{channels.RepEvent, channels.RepWorkers} {
		for _, d := range directions {
			t.Run(mode.String()+"/"+d.name, func(t *testing.T) {
				ctx := testkit.Context(t)
				x := newGoContext(t)
				p, _ := startPython(t, ctx, nil)
				d.link(t, x, p, "main", "c")
				rep, err := channels.NewRepChannel(x, "svc", channels.WithWorkers(2))
				if err != nil {
					t.Fatal(err)
				}
				shutdownWithTest(t, rep)
				if err := errors.Join(rep.RegisterService(serviceRep{}), rep.SetMode(mode)); err != nil {
					t.Fatal(err)
				}
				p.call(map[string]any{"op": "service_rep", "slot": "svc-py", "mode": "event"}, nil)
				req, err := channels.NewReqChannel(x, "svc-py")
				if err != nil {
					t.Fatal(err)
				}
				goReq, err := channels.NewReqChannel(goNeighbour(t, ctx, x), "svc")
				if err != nil {
					t.Fatal(err)
				}

				tests := []struct {
					method string
					args   []any
					kwargs map[string]any
					// Where Go differs from Python: what each says.
					goSays, pySays string
					// Call the Go service from Go: Python's requester cannot
					// send a keyword called "name" (its proxy's own
					// parameter is called name).
					fromGo bool
				}{
					{method: "add_numbers", args: []any{3, 4}},
					{method: "add_numbers", args: []any{"a", "b"}, goSays: "add_numbers() argument 1: cannot convert 'a' (str) to int", pySays: "'ab'"},
					{method: "greet", args: []any{"bob"}},
					{method: "greet", args: []any{"bob"}, kwargs: map[string]any{"greeting": "Hi"}},
					{method: "greet", args: []any{"bob"}, kwargs: map[string]any{"punctuation": "?", "greeting": "Yo"}},
					{method: "greet", args: []any{"bob", "Hi"}},
					{method: "greet", args: []any{"bob", "Hi", "."}},
					{method: "greet", args: []any{"bob", "Hi"}, kwargs: map[string]any{"punctuation": "?"}},
					{method: "greet", args: []any{"bob", "Hi"}, kwargs: map[string]any{"greeting": "Yo"}},
					{method: "greet", args: []any{"bob"}, kwargs: map[string]any{"mood": "happy"}},
					{method: "greet", args: []any{"bob", "a", "b", "c"},
						goSays: "greet() takes from 1 to 3 positional arguments but 4 were given",
						pySays: "greet() takes from 2 to 4 positional arguments but 5 were given"}, // Python counts self
					{method: "greet", kwargs: map[string]any{"name": "bob"}, fromGo: true, // Go parameters are positional only
						goSays: "greet() missing 1 required positional argument", pySays: "'Hello, bob!'"},
					{method: "area", args: []any{2, 3}},
					{method: "area", kwargs: map[string]any{"height": 3, "width": 2}},
					{method: "area", args: []any{2}, kwargs: map[string]any{"height": 5}},
					{method: "area", args: []any{2}},
					{method: "area", args: []any{1, 2, 3},
						goSays: "area() takes 2 positional arguments but 3 were given",
						pySays: "area() takes 3 positional arguments but 4 were given"}, // Python counts self
					{method: "scaled", args: []any{1, 2, 3},
						goSays: "scaled() takes from 1 to 2 positional arguments but 3 were given",
						pySays: "scaled() takes from 2 to 3 positional arguments but 4 were given"},
					{method: "area"},
					{method: "area", args: []any{2, 3}, kwargs: map[string]any{"width": 1}},
					{method: "scaled", args: []any{2}},
					{method: "scaled", args: []any{2, 3}},
					{method: "scaled", args: []any{2}, kwargs: map[string]any{"scale": 3, "z": 1, "a": "b"}},
					{method: "nope", goSays: "Method 'nope' not implemented.", pySays: "Method 'nope' not implemented."},
				}
				for _, tt := range tests {
					// Python requester → Go service.
					var goOut string
					if tt.fromGo {
						v, err := goCall(t, ctx, goReq, tt.method, tt.args, tt.kwargs)
						goOut = wire.Repr(v)
						if err != nil {
							goOut = remoteMessage(t, tt.method, err)
						}
					} else {
						var r pyReq
						p.call(map[string]any{"op": "req", "slot": "svc", "method": tt.method, "args": tt.args, "kwargs": tt.kwargs}, &r)
						goOut = r.Repr
						if r.Exception != nil {
							goOut = firstLine(*r.Exception)
						}
					}
					// Go requester → Python replier.
					v, err := goCall(t, ctx, req, tt.method, tt.args, tt.kwargs)
					pyOut := wire.Repr(v)
					if err != nil {
						var re *futures.RemoteError
						if !errors.As(err, &re) {
							t.Fatalf("%s: %v", tt.method, err)
						}
						// Python 3.11 names the method by its qualified name.
						pyOut = firstLine(re.Message)
						if i := strings.Index(pyOut, "ServiceRep."); i >= 0 {
							pyOut = pyOut[i+len("ServiceRep."):]
						}
					}
					if tt.goSays != "" {
						if goOut != tt.goSays || pyOut != tt.pySays {
							t.Errorf("%s(%v, %v):\nGo     %s (want %s)\nPython %s (want %s)", tt.method, tt.args, tt.kwargs, goOut, tt.goSays, pyOut, tt.pySays)
						}
						continue
					}
					if goOut != pyOut {
						t.Errorf("%s(%v, %v):\nGo     %s\nPython %s", tt.method, tt.args, tt.kwargs, goOut, pyOut)
					}
				}
			})
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
