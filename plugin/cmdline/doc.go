// Package cmdline owns the command line both devcache binaries share: the
// root command and its flags, every flag's DEVCACHE_* variable, the flag
// groups several commands register (registry access, resolution,
// lockfile) turned into the options of the packages below, the output
// helpers, and the commands the docker-devcache plugin binary answers
// itself, probe and version. It links nothing that builds (no BuildKit
// client, no docker CLI command package, no Compose loader), so that the
// plugin binary starts fast; package plugin adds the other commands.
package cmdline
