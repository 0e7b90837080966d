package features

import (
	"sync"
	"unicode/utf16"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

var (
	collatorMu sync.Mutex
	// collator is built on first use: its tables cost every process
	// start that links this package ~1 ms otherwise.
	collator *collate.Collator
)

// LocaleCompare is JavaScript's a.localeCompare(b) in Node's default (ICU
// root) locale: -1, 0 or 1. The reference sorts features, options and
// lockfile keys with it, so byte order must not be used.
func LocaleCompare(a, b string) int {
	collatorMu.Lock()
	defer collatorMu.Unlock()
	if collator == nil {
		collator = collate.New(language.Und)
	}
	return collator.CompareString(a, b)
}

// compareUTF16 orders strings by UTF-16 code units, as JavaScript's default
// Array.prototype.sort does.
func compareUTF16(a, b string) int {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			if ua[i] < ub[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(ua) < len(ub):
		return -1
	case len(ua) > len(ub):
		return 1
	}
	return 0
}

// jsSort sorts s in place with cmp as V8's Array.prototype.sort does for
// arrays shorter than 64 elements (one run found by CountAndMakeRun, then a
// binary insertion sort), so even a comparator that is not a consistent
// total order gives the reference's result. Longer arrays use a stable
// merge sort, which agrees whenever cmp is consistent.
func jsSort[T any](s []T, cmp func(a, b T) int) {
	n := len(s)
	if n < 2 {
		return
	}
	if n >= 64 {
		stableMergeSort(s, cmp)
		return
	}
	// CountAndMakeRun(0, n)
	run := 2
	if n == 1 {
		run = 1
	}
	desc := cmp(s[1], s[0]) < 0
	prev := s[1]
	for i := 2; i < n; i++ {
		o := cmp(s[i], prev)
		if desc {
			if o >= 0 {
				break
			}
		} else if o < 0 {
			break
		}
		prev = s[i]
		run++
	}
	if desc {
		for i, j := 0, run-1; i < j; i, j = i+1, j-1 {
			s[i], s[j] = s[j], s[i]
		}
	}
	// BinaryInsertionSort(0, run, n)
	for start := run; start < n; start++ {
		left, right := 0, start
		pivot := s[start]
		for left < right {
			mid := left + (right-left)>>1
			if cmp(pivot, s[mid]) < 0 {
				right = mid
			} else {
				left = mid + 1
			}
		}
		copy(s[left+1:start+1], s[left:start])
		s[left] = pivot
	}
}

func stableMergeSort[T any](s []T, cmp func(a, b T) int) {
	if len(s) < 2 {
		return
	}
	mid := len(s) / 2
	stableMergeSort(s[:mid], cmp)
	stableMergeSort(s[mid:], cmp)
	merged := make([]T, 0, len(s))
	i, j := 0, mid
	for i < mid && j < len(s) {
		if cmp(s[j], s[i]) < 0 {
			merged = append(merged, s[j])
			j++
		} else {
			merged = append(merged, s[i])
			i++
		}
	}
	merged = append(merged, s[i:mid]...)
	merged = append(merged, s[j:]...)
	copy(s, merged)
}
