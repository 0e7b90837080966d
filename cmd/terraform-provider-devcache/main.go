// Command terraform-provider-devcache is the Terraform provider
// devcache/devcache (internal/tfprovider): the data source
// devcache_cached_image runs `docker devcache probe` inside Terraform.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/devcache/devcache/internal/tfprovider"
	"github.com/devcache/devcache/internal/version"
)

func main() {
	debug := flag.Bool("debug", false, "Run with support for debuggers such as delve (prints TF_REATTACH_PROVIDERS)")
	flag.Parse()
	err := providerserver.Serve(context.Background(), tfprovider.New(version.Version), providerserver.ServeOpts{
		Address: tfprovider.Address,
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
