package tfprovider

import (
	"context"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// cachedImage is the data source devcache_cached_image.
type cachedImage struct{}

func newCachedImage() datasource.DataSource { return &cachedImage{} }

// cachedImageModel is the data source's configuration and state.
type cachedImageModel struct {
	GitURL             types.String `tfsdk:"git_url"`
	GitRef             types.String `tfsdk:"git_ref"`
	GitCloneDepth      types.Int64  `tfsdk:"git_clone_depth"`
	GitUsername        types.String `tfsdk:"git_username"`
	GitPassword        types.String `tfsdk:"git_password"`
	GitSSHPrivateKey   types.String `tfsdk:"git_ssh_private_key"`
	GitHTTPProxy       types.String `tfsdk:"git_http_proxy"`
	WorkspaceFolder    types.String `tfsdk:"workspace_folder"`
	Config             types.String `tfsdk:"config"`
	CacheRepo          types.String `tfsdk:"cache_repo"`
	FallbackImage      types.String `tfsdk:"fallback_image"`
	MaxAge             types.String `tfsdk:"max_age"`
	Platforms          []string     `tfsdk:"platforms"`
	DockerConfigBase64 types.String `tfsdk:"docker_config_base64"`
	RegistryMirrors    []string     `tfsdk:"registry_mirrors"`
	RegistryCAPEM      types.String `tfsdk:"registry_ca_pem"`
	InsecureRegistries []string     `tfsdk:"insecure_registries"`
	Allow              []string     `tfsdk:"allow"`
	Timeout            types.String `tfsdk:"timeout"`

	Exists  types.Bool   `tfsdk:"exists"`
	Image   types.String `tfsdk:"image"`
	Key     types.String `tfsdk:"key"`
	KeyTag  types.String `tfsdk:"key_tag"`
	ID      types.String `tfsdk:"id"`
	Created types.String `tfsdk:"created"`
}

func (d *cachedImage) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cached_image"
}

func (d *cachedImage) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: desc}
	}
	secret := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: desc}
	}
	list := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: desc}
	}
	out := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Tells whether the dev container image of a repository (or a local workspace folder) is cached in a " +
			"devcache cache repository, without building: it computes the workspace's cache key and looks up " +
			"`<cache_repo>:dc-<key>` with one manifest HEAD, as `docker devcache probe` does. A registry, credential or " +
			"configuration error fails the read; it is never reported as `exists = false`.",
		Attributes: map[string]schema.Attribute{
			"git_url": str("URL of the repository to clone (`https://`, `http://`, `ssh://`, `git@host:path` or `file://`); " +
				"cloned with go-git into a temporary directory that is removed after the read. Exactly one of `git_url` and `workspace_folder`."),
			"git_ref": str("Branch, tag, `refs/...` name or full commit hash to check out (default: the remote's HEAD)."),
			"git_clone_depth": schema.Int64Attribute{Optional: true, MarkdownDescription: "Clone only this many commits " +
				"(default 1; 0 clones the whole history; a commit hash in `git_ref` clones the whole history)."},
			"git_username":        str("Username for HTTP(S) clones (basic authentication)."),
			"git_password":        secret("Password or token for HTTP(S) clones."),
			"git_ssh_private_key": secret("PEM private key for SSH clones; the host key is checked against `SSH_KNOWN_HOSTS` or `~/.ssh/known_hosts`."),
			"git_http_proxy":      str("Proxy URL for HTTP(S) clones (default: none)."),
			"workspace_folder":    str("Local workspace folder, instead of `git_url`."),
			"config": str("Path of devcontainer.json relative to the workspace (default: `.devcontainer/devcontainer.json`, " +
				"then `.devcontainer.json`), as `docker devcache --config`."),
			"cache_repo":     schema.StringAttribute{Required: true, MarkdownDescription: "Repository of the cache entries, e.g. `ghcr.io/acme/devcache` (no tag or digest)."},
			"fallback_image": str("Image reported in `image` when there is no cached image (e.g. the image that builds the workspace)."),
			"max_age":        str("Entries older than this are misses, e.g. `7d`, `1d12h` or `36h` (default: any age), as `--max-age`."),
			"platforms":      list("Target platforms of the key, e.g. `[\"linux/amd64\"]` (default: the provider host's `linux/<arch>`); they must match the pushed entry's."),
			"docker_config_base64": secret("Base64 of a docker `config.json`, the registry credentials (its `auths`; " +
				"credential helpers must be installed where Terraform runs). Default: the docker config of `DOCKER_CONFIG` or `~/.docker`."),
			"registry_mirrors":    list("Registry mirrors `FROM=TO[/PREFIX]`, as `--registry-mirror` (e.g. `docker.io=mirror.example.com/dockerhub`)."),
			"registry_ca_pem":     str("PEM certificates trusted for registries besides the system CAs, as `--registry-ca`."),
			"insecure_registries": list("Registry hosts reached over plain HTTP (loopback hosts always are), as `--insecure-registry`."),
			"allow":               list("Source policy patterns, as `--allow` (a refused base image or feature is an error)."),
			"timeout":             str("Give up after this long (default `2m`), as `--timeout`."),

			"exists":  schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the cached image exists (and is not older than `max_age`)."},
			"image":   out("The cached image `<cache_repo>@sha256:…` when it exists, else `fallback_image`."),
			"key":     out("The workspace's cache key (`sha256:…`)."),
			"key_tag": out("The key's reference `<cache_repo>:dc-<hex>`."),
			"id":      out("The cached image's digest when it exists, else the key."),
			"created": out("When the cached image was created (RFC 3339); empty on a miss."),
		},
	}
}

func (d *cachedImage) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m cachedImageModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	in, err := m.request()
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root(err.attr), "Invalid "+err.attr, err.msg)
		return
	}
	res, perr := in.run(ctx)
	if perr != nil {
		resp.Diagnostics.AddError("devcache_cached_image: probe failed", perr.Error())
		return
	}
	m.Exists = types.BoolValue(res.Hit)
	m.Key = types.StringValue(res.Key)
	m.KeyTag = types.StringValue(res.Ref)
	m.Image, m.ID, m.Created = m.FallbackImage, types.StringValue(res.Key), types.StringValue("")
	if m.Image.IsNull() {
		m.Image = types.StringValue("")
	}
	if res.Hit {
		m.Image = types.StringValue(res.Image)
		m.ID = types.StringValue(res.Image[strings.LastIndex(res.Image, "@")+1:])
		if !res.Created.IsZero() {
			m.Created = types.StringValue(res.Created.UTC().Format(time.RFC3339))
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
