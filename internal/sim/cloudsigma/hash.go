package cloudsigma

import (
	"fmt"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// mix hashes its arguments into one well-spread word. Every seeded choice
// of the model is mix(seed, salt, …), so any part of it can be recomputed on
// its own, in any order.
func mix(vals ...uint64) uint64 { return sim.Mix(vals...) }

// Salts name the seeded choices, so two choices never share a stream.
const (
	saltServer uint64 = iota + 1
	saltDrive
	saltLevel
	saltPoll
	saltPayment
	saltUUID
	saltID
	saltSub
	saltPromo
)

// pick returns an integer in [0, n).
func pick(n int, vals ...uint64) int { return int(mix(vals...) % uint64(n)) }

// uuidFrom formats a version-4 style UUID from seeded words.
func uuidFrom(vals ...uint64) string {
	a := mix(append(vals, saltUUID)...)
	b := mix(append(vals, saltUUID, 1)...)
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x",
		uint32(a>>32), uint16(a>>16), uint16(a)&0xfff, uint16(b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}
