// Package probe owns the one probe of a workspace (Probe): compute its Plans
// and cache key through plugin/resolver, look the key tag up in the cache
// repository with one manifest HEAD, apply a maximum age and, on a miss,
// explain it (docs/cache-commands.md, "probe"). `docker devcache probe` and
// the Terraform provider's devcache_cached_image data source both call it.
//
// It takes typed Options, never flags or Terraform values; it imports
// plugin/resolver, plugin/cache and plugin/registry, never cobra, pflag,
// BuildKit's client, Terraform's libraries or the plugin's commands.
package probe
