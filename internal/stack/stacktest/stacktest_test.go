package stacktest

import (
	"testing"

	"github.com/devcache/devcache/internal/stack"
)

func TestMain(m *testing.M) { Main(m) }

func TestGet(t *testing.T) {
	s := Get(t)
	if err := s.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again := Get(t); again != s {
		t.Errorf("second Get = %v, want the same stack %v", again, s)
	}
	c, err := s.Client(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ListWorkers(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := s.Registry + "/" + stack.BusyboxRepo; s.Ref(stack.BusyboxRepo) != want {
		t.Errorf("Ref = %q, want %q", s.Ref(stack.BusyboxRepo), want)
	}
}
