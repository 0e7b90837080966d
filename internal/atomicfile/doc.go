// Package atomicfile owns how devcache writes files for the user: every
// file is replaced whole (moby/sys/atomicwriter: a temporary file in the
// same directory, synced, then renamed over the target), so a reader or a
// crash sees the old content or the new, never a mix; and files that
// several processes read-modify-write (a warm layout's index.json) are
// updated under a cross-process lock. Appends ($GITHUB_OUTPUT) are not
// replacements and do not come here.
//
// It imports nothing of devcache, and no BuildKit.
package atomicfile
