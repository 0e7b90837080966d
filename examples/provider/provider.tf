terraform {
  required_providers {
    devcache = {
      source = "devcache/devcache"
    }
  }
}

# The provider takes no configuration.
provider "devcache" {}
