package interop

import (
	"encoding/json"
	"testing"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
)

type jsonReading struct {
	Sensor string   `json:"sensor"`
	Value  float64  `json:"value"`
	Tags   []string `json:"tags"`
}

// TestJSONWithPython: channels.JSON[T] travels as JSON text on the text
// slots: a Python TEXT subscriber gets a str that json.loads reads, and
// what a Python TEXT publisher sends as json.dumps text arrives decoded.
func TestJSONWithPython(t *testing.T) {
	ctx := testkit.Context(t)
	x := newGoContext(t)
	p, _ := startPython(t, ctx, nil)
	goHosts(t, x, p, "main", "c")
	want := jsonReading{Sensor: "t1", Value: 21.5, Tags: []string{"a", "ü"}}

	p.call(map[string]any{"op": "sub", "slot": "json-go-py"}, nil)
	pub, err := channels.NewPubChannel(x, "json-go-py", channels.JSON[jsonReading]())
	if err != nil {
		t.Fatal(err)
	}
	awaitLink(t, ctx, x, p, "main") // Python's subscription is known
	if err := pub.Send(ctx, want); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Messages []string `json:"messages"`
	}
	p.call(map[string]any{"op": "recv", "slot": "json-go-py"}, &got)
	var fromGo jsonReading
	if len(got.Messages) != 1 || json.Unmarshal([]byte(got.Messages[0]), &fromGo) != nil || fromGo.Sensor != want.Sensor || fromGo.Value != want.Value || len(fromGo.Tags) != 2 || fromGo.Tags[1] != "ü" {
		t.Fatalf("Python received %q, want the JSON of %+v", got.Messages, want)
	}

	sub, err := channels.NewSubChannel(x, "json-py-go", channels.JSON[jsonReading]())
	if err != nil {
		t.Fatal(err)
	}
	p.call(map[string]any{"op": "pub", "slot": "json-py-go"}, nil)
	awaitLink(t, ctx, x, p, "main")
	text, _ := json.Marshal(want) // what Python's json.dumps gives, up to spacing
	p.call(map[string]any{"op": "send", "slot": "json-py-go", "value": `{"sensor": "t1", "value": 21.5, "tags": ["a", "\u00fc"]}`}, nil)
	m, err := sub.Recv(ctx)
	if err != nil || m.Sensor != want.Sensor || m.Value != want.Value || len(m.Tags) != 2 || m.Tags[1] != "ü" {
		t.Fatalf("Go received %+v, %v; want %s decoded", m, err, text)
	}
}
