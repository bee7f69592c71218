package channels

import (
	"encoding/json"
	"fmt"
)

// JSON returns a message type that carries values of T as JSON text
// (encoding/json) on the text slots ("txt"), so a Python yoton channel of
// type yoton.TEXT at the same slot base receives the JSON as a str (read
// it with json.loads) and sends what json.dumps gives. Decoding follows
// encoding/json: unknown fields are ignored, and a message that is not
// JSON for T fails with ErrDecode (the channel keeps going, as for any
// undecodable message). Encoding a value encoding/json refuses (a channel
// or a func, say) fails with ErrEncode. Safe for concurrent use.
func JSON[T any]() MessageType[T] {
	return NewMessageType("txt",
		func(m T) ([]byte, error) {
			b, err := json.Marshal(m)
			if err != nil {
				return nil, fmt.Errorf("%w (json): %w", ErrEncode, err)
			}
			return b, nil
		},
		func(b []byte) (T, error) {
			var m T
			if err := json.Unmarshal(b, &m); err != nil {
				return m, fmt.Errorf("%w (json): %w", ErrDecode, err)
			}
			return m, nil
		})
}
