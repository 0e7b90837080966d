package tfprovider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Address is the provider's registry address.
const Address = "registry.terraform.io/devcache/devcache"

// devcacheProvider has no configuration: every data source carries its
// registry access, as templates probe several cache repositories.
type devcacheProvider struct {
	version string
}

// New returns the provider factory of version (the release version).
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &devcacheProvider{version: version} }
}

func (p *devcacheProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "devcache"
	resp.Version = p.version
}

func (p *devcacheProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up dev container images cached by [devcache](https://github.com/devcache/devcache) " +
			"in an OCI registry, without building: the same probe as `docker devcache probe`. The provider takes no configuration.",
	}
}

func (p *devcacheProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *devcacheProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newCachedImage}
}

func (p *devcacheProvider) Resources(context.Context) []func() resource.Resource { return nil }
