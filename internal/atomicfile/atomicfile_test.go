package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.json")
	if err := Write(p, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	assertFile(t, p, "one\n", 0o600)
	// An existing file keeps its mode.
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	assertFile(t, p, "two\n", 0o640)
	// A link stays a link; its target gets the content.
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("out.json", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("three\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	assertFile(t, p, "three\n", 0o640)
	if err := Write(dir, []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("writing a directory: %v", err)
	}
	// A dangling link: its target is created.
	dangling := filepath.Join(dir, "dangling.json")
	if err := os.Symlink("new.json", dangling); err != nil {
		t.Fatal(err)
	}
	if err := Write(dangling, []byte("four\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	assertFile(t, filepath.Join(dir, "new.json"), "four\n", 0o600)
	assertOnly(t, dir, "dangling.json", "link.json", "new.json", "out.json")
}

type failingReader struct{ n int }

func (r *failingReader) Read(b []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("connection reset")
	}
	r.n--
	return copy(b, "partial"), nil
}

// TestWriteFrom: a stream that fails midway leaves the old content and no
// temporary file.
func TestWriteFrom(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "blob")
	if err := WriteFrom(p, strings.NewReader("whole"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFrom(p, &failingReader{n: 3}, 0o644); err == nil {
		t.Fatal("a failed stream reported success")
	}
	assertFile(t, p, "whole", 0o644)
	assertOnly(t, dir, "blob")
}

func assertFile(t *testing.T, p, want string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != want {
		t.Errorf("%s = %q, %v; want %q", p, b, err, want)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
		t.Errorf("%s mode %v (%v), want %v", p, fi.Mode().Perm(), err, mode)
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != fmt.Sprint(names) {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

// increment adds one line to the file at p under Update.
func increment(p, line string) error {
	return Update(p, 0o644, func(cur []byte) ([]byte, error) {
		return append(cur, line+"\n"...), nil
	})
}

// TestUpdateConcurrent: read-modify-writes from goroutines and from other
// processes, all at once, lose no line.
func TestUpdateConcurrent(t *testing.T) {
	if p := os.Getenv("ATOMICFILE_TEST_UPDATE"); p != "" {
		helperProcess(p)
		return
	}
	p := filepath.Join(t.TempDir(), "index")
	const procs, goroutines, each = 3, 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, procs+goroutines)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestUpdateConcurrent$")
			cmd.Env = append(os.Environ(), "ATOMICFILE_TEST_UPDATE="+p, "ATOMICFILE_TEST_ID=p"+strconv.Itoa(i), "ATOMICFILE_TEST_EACH="+strconv.Itoa(each))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("process %d: %v\n%s", i, err, out)
			}
		}()
	}
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				if err := increment(p, fmt.Sprintf("g%d-%d", i, j)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if want := (procs + goroutines) * each; len(lines) != want {
		t.Errorf("%d lines, want %d: updates were lost", len(lines), want)
	}
}

func helperProcess(p string) {
	id := os.Getenv("ATOMICFILE_TEST_ID")
	each, _ := strconv.Atoi(os.Getenv("ATOMICFILE_TEST_EACH"))
	for j := range each {
		if err := increment(p, fmt.Sprintf("%s-%d", id, j)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

var _ io.Reader = (*failingReader)(nil)
