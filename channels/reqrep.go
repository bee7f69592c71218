package channels

import "time"

// Request/reply as yoton 2.2 speaks it (docs/protocol.md, section 8):
//
//   - The requester numbers its requests from 1 and announces request id
//     with "req?" to everyone, dest_seq = id + 2^63, resent every 0.5 s
//     while nobody has taken it.
//   - A free replier answers the oldest announcement it holds with "req!"
//     (dest_id = requester, same dest_seq) and takes no other while that
//     one is open (a Go replier: while its window or workers are full).
//   - The first "req!" wins: the requester sends the request itself,
//     (method, args, kwargs), to that replier only (dest_seq = id), then
//     "req-" to everyone so that the other repliers drop it. Later "req!"s
//     for it are refused.
//   - The replier answers the requester with dest_seq = id: the returned
//     value, or ("yoton_ERROR_HANDLING_REQUEST", message).

// Messaging patterns of request/reply.
const (
	patternReqRep = "req-rep"
	patternRepReq = "rep-req"
)

// Request/reply constants, as yoton has them.
const (
	// DefaultRequestTimeout is how long a call waits for a replier to
	// take it before its future cancels itself (yoton's auto-cancel
	// timeout; a call a replier runs waits for its reply).
	DefaultRequestTimeout = 10 * time.Second
	// ResendInterval is how often a requester repeats the announcement of
	// a request nobody has taken yet.
	ResendInterval = 500 * time.Millisecond
	// PreRequestExpiry is how long a replier keeps waiting for a request
	// it offered to take ("req!") before it offers to take another one.
	PreRequestExpiry = 10 * time.Second
	// ErrorObject is the first item of the tuple a replier sends back
	// when handling a request failed; the second item is the message.
	ErrorObject = "yoton_ERROR_HANDLING_REQUEST"
)

// seqRef is added to a request id in the dest_seq of announcements.
const seqRef = 1 << 63

// resendCheck is how often a requester looks for announcements to resend
// (yoton checks every 0.1 s too).
const resendCheck = 100 * time.Millisecond

// yoton's announcement and cancel words (a Go replier's "req!" is
// msgTakeFast, reqrep_fast.go).
var (
	msgAsk    = []byte("req?")
	msgCancel = []byte("req-")
)

// Kwargs holds the keyword arguments of a call. Keys are argument names;
// values are anything Call accepts as an argument. It is a plain map,
// not safe for concurrent use while one goroutine modifies it; Call and
// ReqChannel.Call encode it before they return and do not keep it.
type Kwargs map[string]any
