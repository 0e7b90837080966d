package stack

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// tailLines is how much of a daemon log an error quotes.
const tailLines = 15

// lastLines returns the last n non-empty lines of s, indented for quoting
// inside an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

// logTail reads the end of a log file for an error message.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("    (cannot read %s: %v)", path, err)
	}
	defer f.Close()
	const max = 16 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		if _, err := f.Seek(st.Size()-max, io.SeekStart); err != nil {
			return fmt.Sprintf("    (cannot read %s: %v)", path, err)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("    (cannot read %s: %v)", path, err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return "    (the log is empty)"
	}
	return lastLines(string(b), tailLines)
}
