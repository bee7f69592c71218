package slots

import "math/bits"

// Reserved slot ids. Hash never returns a value below 8, so these can not
// collide with a channel's slot.
const (
	// ConnectionSlot carries connection-level signals (heartbeat, close).
	ConnectionSlot uint64 = 1
	// ContextSlot carries context-to-context messages.
	ContextSlot uint64 = 2
)

const (
	hashFactor = 0xD2D84A61 // fac in Python's slot_hash and port_hash
	hashOffset = 8          // slot ids 0..7 are reserved
	hashMod    = 1<<64 - hashOffset

	portBase = 49152     // first dynamic/private port (IANA)
	portMask = 1<<14 - 1 // port_hash keeps val mod 2^14
)

// Hash returns yoton's slot id for a full slot name, in [8, 2^64-1]. It is
// Python's slot_hash computed on name exactly as given (no normalisation;
// see ID and Normalize for what channels hash):
//
//	val = 0
//	for each code point c: val += (val >> 3) + c*0xD2D84A61
//	val += (val >> 3) + (number of code points)*0xD2D84A61
//	return 8 + val mod (2^64 - 8)
//
// val is an unbounded integer, as in Python; it grows by about 0.17 bits
// per code point, so the cost is quadratic in the length of name (a name
// of 10,000 code points takes well under a millisecond). Invalid UTF-8
// bytes count as U+FFFD each, as in a Go range loop. Hash is safe for
// concurrent use.
func Hash(name string) uint64 {
	val := accumulate(name)
	var r uint64
	for i := len(val) - 1; i >= 0; i-- {
		// Horner's rule: r = (r*2^64 + limb) mod m, with r < m.
		r = bits.Rem64(r, val[i], hashMod)
	}
	return hashOffset + r
}

// PortHash returns the port number Python's port_hash gives name, in
// [49152, 65535]: the same accumulation as Hash, then 49152 + val mod 2^14.
// PortHash is safe for concurrent use.
func PortHash(name string) int {
	val := accumulate(name)
	return portBase + int(val[0]&portMask)
}

// accumulate runs the loop shared by slot_hash and port_hash and returns
// val as little-endian 64-bit limbs (val[0] least significant). The slice
// always has at least one limb.
func accumulate(name string) []uint64 {
	val := make([]uint64, 1, 2+len(name)/256)
	var n uint64
	for _, c := range name {
		val = step(val, 0, uint64(c)*hashFactor) // c < 2^21: fits in 64 bits
		n++
	}
	hi, lo := bits.Mul64(n, hashFactor)
	return step(val, hi, lo)
}

// step returns val + (val >> 3) + (hi*2^64 + lo), reusing val's storage.
//
// It works in place from the least significant limb up: the shifted limb
// i is made of val[i] and val[i+1], and val[i+1] is still unmodified when
// limb i is written. Each limb sums at most four 64-bit terms (the limb,
// its shifted twin, the addend limb and the carry), so the carry into the
// next limb is at most 3.
func step(val []uint64, hi, lo uint64) []uint64 {
	if hi != 0 && len(val) < 2 {
		val = append(val, 0)
	}
	var carry uint64
	for i := range val {
		shifted := val[i] >> 3
		if i+1 < len(val) {
			shifted |= val[i+1] << 61
		}
		var add uint64
		switch i {
		case 0:
			add = lo
		case 1:
			add = hi
		}
		s, c1 := bits.Add64(val[i], shifted, 0)
		s, c2 := bits.Add64(s, add, 0)
		s, c3 := bits.Add64(s, carry, 0)
		val[i] = s
		carry = c1 + c2 + c3
	}
	if carry != 0 {
		val = append(val, carry)
	}
	return val
}
