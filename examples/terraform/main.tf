# A Coder-style workspace template that starts from the dev container image
# devcache cached for the repository, and falls back to a builder image
# (here envbuilder, which builds the dev container in the workspace) when
# there is none yet.
#
# Only the devcache provider and Terraform's built-ins are used, so that
# `terraform validate` runs anywhere; the commented blocks show where a real
# template wires the image into its coder_agent and docker_container (or
# kubernetes_pod).

terraform {
  required_providers {
    devcache = {
      source = "devcache/devcache"
    }
    # coder  = { source = "coder/coder" }
    # docker = { source = "kreuzwerker/docker" }
  }
}

variable "repo_url" {
  description = "Repository holding the dev container (.devcontainer/devcontainer.json)."
  type        = string
  default     = "https://github.com/devcache/devcache.git"
}

variable "repo_ref" {
  description = "Branch, tag or commit to look up (empty: the default branch)."
  type        = string
  default     = ""
}

variable "cache_repo" {
  description = "Repository where `docker devcache push` (e.g. in CI) stores the images."
  type        = string
  default     = "ghcr.io/acme/devcache"
}

variable "fallback_image" {
  description = "Image started when nothing is cached: a builder such as envbuilder."
  type        = string
  default     = "ghcr.io/coder/envbuilder:latest"
}

variable "docker_config_base64" {
  description = "Base64 of a docker config.json with credentials for cache_repo (empty: anonymous or the provider host's)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "max_age" {
  description = "Rebuild images older than this (e.g. 7d; empty: any age)."
  type        = string
  default     = ""
}

data "devcache_cached_image" "workspace" {
  git_url              = var.repo_url
  git_ref              = var.repo_ref != "" ? var.repo_ref : null
  cache_repo           = var.cache_repo
  fallback_image       = var.fallback_image
  max_age              = var.max_age != "" ? var.max_age : null
  docker_config_base64 = var.docker_config_base64 != "" ? var.docker_config_base64 : null
  platforms            = ["linux/amd64"]
}

locals {
  cached = data.devcache_cached_image.workspace.exists
  image  = data.devcache_cached_image.workspace.image

  # The builder needs to know what to build; the cached image does not.
  env = local.cached ? {} : {
    ENVBUILDER_GIT_URL    = var.repo_url
    ENVBUILDER_CACHE_REPO = var.cache_repo
  }
}

# Recreate the workspace's container when the image changes (a new entry was
# pushed, or it appeared after a fallback start).
resource "terraform_data" "workspace_image" {
  input            = local.image
  triggers_replace = [data.devcache_cached_image.workspace.id]
}

# resource "docker_container" "workspace" {
#   count = data.coder_workspace.me.start_count
#   image = local.image
#   env   = concat([for k, v in local.env : "${k}=${v}"], ["CODER_AGENT_TOKEN=${coder_agent.main.token}"])
#   ...
# }

output "image" {
  description = "The image the workspace starts from."
  value       = local.image
}

output "cached" {
  description = "Whether it is the cached dev container image."
  value       = local.cached
}

output "builder_env" {
  description = "Environment for the fallback builder (empty when cached)."
  value       = local.env
}

output "key_tag" {
  description = "Where `docker devcache push` stores this workspace's image."
  value       = data.devcache_cached_image.workspace.key_tag
}
