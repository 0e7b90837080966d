// Package plugin is the docker CLI plugin `docker devcache`: the cobra
// commands, the connection to a BuildKit builder, and the registry cache
// operations. It runs the frontend in-process through the BuildKit client, so
// no frontend image is needed.
//
// Command mains only call NewRootCommand through the docker/cli plugin
// framework; everything a command does is here or in the packages it calls.
package plugin
