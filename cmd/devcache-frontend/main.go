// Command devcache-frontend is the BuildKit frontend image's entrypoint.
package main

import (
	"fmt"
	"os"

	"github.com/devcache/devcache/frontend"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
)

func main() {
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		fmt.Fprintf(os.Stderr, "devcache-frontend: %v\n", err)
		os.Exit(1)
	}
}
