// Command golang-image pushes a Go builder image made from this machine's Go
// toolchain, for building devcache's Dockerfile without a public registry:
//
//	go run ./hack/golang-image 127.0.0.1:5000 127.0.0.1:5000/debian:bookworm
//
// It prints the pushed reference, for docker-bake.hcl's GO_IMAGE variable.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/devcache/devcache/internal/goimage"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: golang-image REGISTRY BASE-IMAGE")
		os.Exit(2)
	}
	ref, err := goimage.Ensure(context.Background(), os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "golang-image:", err)
		os.Exit(1)
	}
	fmt.Println(ref)
}
