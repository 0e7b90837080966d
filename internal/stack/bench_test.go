package stack

import "testing"

// BenchmarkUpWarm measures Up on a stack that already runs: what every
// hack/stack up and every attached test binary pays.
//
//	go test -run XXX -bench UpWarm ./internal/stack/
func BenchmarkUpWarm(b *testing.B) {
	needStack(b)
	opts := Options{Dir: b.TempDir(), Ephemeral: true}
	s, err := Up(b.Context(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Down(); err != nil {
			b.Error(err)
		}
	})
	for b.Loop() {
		if _, err := Up(b.Context(), opts); err != nil {
			b.Fatal(err)
		}
	}
}
