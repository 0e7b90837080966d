terraform {
  required_providers {
    devcache = {
      source = "devcache/devcache"
    }
  }
}

data "devcache_cached_image" "example" {
  git_url        = "https://github.com/acme/app.git"
  cache_repo     = "ghcr.io/acme/devcache"
  fallback_image = "ghcr.io/coder/envbuilder:latest"
}

output "image" {
  # ghcr.io/acme/devcache@sha256:… when cached, else the fallback image.
  value = data.devcache_cached_image.example.image
}
