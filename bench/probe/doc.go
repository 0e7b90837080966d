// Package probe holds the probe latency benchmark (see RESULTS.md): the
// time of `docker devcache probe` on a fully pinned Plan against the time
// of a single manifest HEAD of the same registry. It has no code besides
// the benchmark; run it with
//
//	go test -run '^$' -bench . -benchtime 2s ./bench/probe
package probe
