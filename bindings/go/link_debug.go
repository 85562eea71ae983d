//go:build !ward_release

package ward

// The static library of a debug build (`cargo build -p ward-capi`); the
// tag ward_release links target/release's instead. CGO_LDFLAGS=-L DIR
// adds another directory to search.

// #cgo LDFLAGS: -L${SRCDIR}/../../target/debug
import "C"
