// Package build runs a devcache build in-process against a BuildKit
// builder (Solve): the frontend with the client's Plans, the BuildKit
// source policy of a solve (the Plans' digest pins plus the --allow rules),
// the layer cache imports and exports of a cache scope (LayerCache), a warm
// layout as the session's OCI store, the session's registry credentials,
// and exports routed to the Docker engine (RouteExports, DockerLoad).
//
// It takes a typed Request, never a command's flags. It imports the
// BuildKit client, the frontend, plugin/registry, plugin/cache and
// plugin/warm; never cobra, pflag, buildx or the plugin's commands (buildx's
// flag parsing stays in the build command).
package build
