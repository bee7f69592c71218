package channels

import "github.com/goyoton/yoton/reactor"

// endpoint returns the channel's attachment to its context (tests only).
func (b *base) endpoint() *reactor.Endpoint { return b.ep }

// EndpointOf returns a channel's endpoint, for tests that send raw
// packages in a channel's name (a forged flow-control message from the
// subscriber's own context, say).
func EndpointOf(c interface{ endpoint() *reactor.Endpoint }) *reactor.Endpoint {
	return c.endpoint()
}
