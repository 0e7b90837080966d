// Package cache owns the cache entries of a cache repository, as
// docs/cache-commands.md describes them: key tags — pointers (TagOf,
// KeyOfTag), generations (GenerationTag, TagGeneration, Replace, Stale) and
// platform pointers (PlatformKeys, PointPlatforms) —, layer
// cache scopes and their tags (Scope, ScopeTag), entries and their
// annotations (ReadEntry, ListEntries), the build-info referrer that records
// when and how fast an entry was built (WriteBuildInfo, ReadBuildInfo), the
// lookup and claim of a key tag (Lookup, Claim, AddTags), prune's selection
// and deletion of entries (SelectExpired, DeleteEntry) and of the layer
// caches of the keys it deletes (ExpiredKeyCaches, SelectKeyCaches,
// DeleteKeyCache), and probe's --explain (Explain).
//
// It reaches registries through plugin/registry and reads Plans
// (devcontainer/plan); it never imports cobra, pflag, BuildKit or the
// plugin's commands.
package cache
