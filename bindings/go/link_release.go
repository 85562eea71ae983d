//go:build ward_release

package ward

// The static library of a release build (`cargo build --release -p
// ward-capi`), for benchmarks: `go test -tags ward_release -bench .`.

// #cgo LDFLAGS: -L${SRCDIR}/../../target/release
import "C"
