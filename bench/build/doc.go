// Package build holds the side-by-side build benchmark (see RESULTS.md):
// the reference `devcontainer build` 0.89.0 and `docker devcache` on the
// same BuildKit daemon, registry and fixture (Debian bookworm plus
// stand-ins for the official common-utils and git features, published to
// the stack's registry), on the differential conformance suite's reference
// set-up (internal/conformance.StartReference). It has no code besides the
// benchmark; run it as root with
//
//	go test -run '^$' -bench . -benchtime 1x -count 3 -timeout 60m ./bench/build
//
// (hack/bench does). DEVCACHE_BENCH_PLUGIN=<binary> times a prebuilt
// plugin instead of building this tree's (to compare exporter variants).
package build
