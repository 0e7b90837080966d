package features

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// ErrOrder is the reference's error when no install order exists (a cycle
// of dependsOn/installsAfter).
var ErrOrder = errors.New("Failed to compute Feature installation order!")

// UserFeature is one requested feature: a key of the config's `features`
// and its options value.
type UserFeature struct {
	Key     string
	Options jsonc.Value
}

// Node is one feature instance of the dependency graph; the install order is
// a list of nodes.
type Node struct {
	// UserFeatureID is the reference as written in `features` or
	// `dependsOn` (the label id and lockfile key).
	UserFeatureID string
	// Options is the options value as written (not normalised with
	// defaults: equality and ordering compare it raw, like the reference).
	Options jsonc.Value
	Ref     *Ref
	Source  *Source
	// Aliases are [currentId||id, ...legacyIds]; nil when the node was
	// deduplicated before its metadata was read.
	Aliases  []string
	Priority int
	// Dependent names the feature whose dependsOn added this node ("" for
	// user features).
	Dependent string

	dependsOn     []*Node
	installsAfter []*Node
	softPending   []string // installsAfter references not resolved yet
}

// OrderOptions are the inputs of Order besides the user features.
type OrderOptions struct {
	RefContext RefContext
	Resolver   Resolver
	// Override is overrideFeatureInstallOrder.
	Override []string
	// Pins are lockfile integrities by reference (the auto-mapped id for
	// OCI, the URL for tarballs).
	Pins map[string]string
	// ErrorFor wraps an error about a user feature key (to name the config
	// file and line); nil leaves errors as they are.
	ErrorFor func(key string, err error) error
}

// Order builds the dependency graph of the user features and computes the
// install order exactly as the reference (containerFeaturesOrder.ts):
// dependsOn adds nodes with options, equal nodes are deduplicated (first
// wins), installsAfter adds soft edges, overrideFeatureInstallOrder raises
// round priorities, and each round of ready nodes is filtered to the highest
// priority and sorted with the reference comparator.
//
// Unlike the reference, a soft dependency (installsAfter) is never fetched,
// whatever its kind: one that names no feature of the set cannot change the
// order and is dropped; one that does is matched against the set's nodes,
// whose metadata is read already (see satisfiesSoftDependency). An override
// entry that matches no feature is not fetched either.
func Order(ctx context.Context, user []UserFeature, o OrderOptions) ([]*Node, error) {
	if o.ErrorFor == nil {
		o.ErrorFor = func(_ string, err error) error { return err }
	}
	user = MapDeprecatedFeatures(user)
	worklist := make([]*Node, 0, len(user))
	for _, u := range user {
		worklist = append(worklist, &Node{UserFeatureID: u.Key, Options: u.Options})
	}
	var acc []*Node
	for len(worklist) > 0 {
		cur := worklist[0]
		worklist = worklist[1:]
		if err := resolveNode(ctx, cur, o); err != nil {
			return nil, err
		}
		dup := false
		for _, f := range acc {
			if equals(f, cur) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if md := cur.Source.DepMetadata; md != nil {
			m, err := DecodeMetadata(metadataName(cur), md)
			if err != nil {
				return nil, wrapNodeErr(cur, o, err)
			}
			cur.Aliases = m.Aliases()
			for _, d := range m.DependsOn {
				dep := &Node{UserFeatureID: d.Key, Options: d.Options, Dependent: cur.UserFeatureID}
				cur.dependsOn = append(cur.dependsOn, dep)
				worklist = append(worklist, dep)
			}
			cur.softPending = append(cur.softPending, m.InstallsAfter...)
		}
		acc = append(acc, cur)
	}
	worklist = acc

	if err := applyOverride(ctx, worklist, o); err != nil {
		return nil, err
	}
	if err := linkSoftDeps(worklist, o); err != nil {
		return nil, err
	}

	var order []*Node
	for len(worklist) > 0 {
		var round []*Node
		for _, n := range worklist {
			if ready(n, order) {
				round = append(round, n)
			}
		}
		if len(round) == 0 {
			return nil, ErrOrder
		}
		maxP := math.MinInt
		for _, n := range round {
			maxP = max(maxP, n.Priority)
		}
		kept := round[:0:0]
		for _, n := range round {
			if n.Priority == maxP {
				kept = append(kept, n)
			}
		}
		rest := worklist[:0:0]
		for _, n := range worklist {
			drop := false
			for _, r := range kept {
				if equals(r, n) {
					drop = true
					break
				}
			}
			if !drop {
				rest = append(rest, n)
			}
		}
		worklist = rest
		jsSort(kept, compareTo)
		order = append(order, kept...)
	}
	return order, nil
}

func ready(n *Node, order []*Node) bool {
	for _, d := range n.dependsOn {
		found := false
		for _, in := range order {
			if equals(in, d) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, d := range n.installsAfter {
		found := false
		for _, in := range order {
			if satisfiesSoftDependency(in, d) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func metadataName(n *Node) string {
	return n.UserFeatureID + ": " + MetadataFile
}

func resolveNode(ctx context.Context, n *Node, o OrderOptions) error {
	ref, err := ParseRef(n.UserFeatureID, o.RefContext)
	if err != nil {
		return wrapNodeErr(n, o, err)
	}
	n.Ref = ref
	src, err := o.Resolver.Resolve(ctx, ref, pinFor(ref, o.Pins))
	if err != nil {
		return wrapNodeErr(n, o, err)
	}
	n.Source = src
	return nil
}

func pinFor(ref *Ref, pins map[string]string) string {
	switch ref.Kind {
	case KindOCI:
		return pins[ref.ID]
	case KindTarball:
		return pins[ref.TarballURL]
	}
	return ""
}

func wrapNodeErr(n *Node, o OrderOptions, err error) error {
	if n.Dependent != "" {
		return fmt.Errorf("dependsOn %q of feature %q: %w", n.UserFeatureID, n.Dependent, err)
	}
	return o.ErrorFor(n.UserFeatureID, err)
}

// applyOverride raises the priority of every node an overrideFeatureInstallOrder
// entry matches (first entry highest). Entries are matched by source
// (resource, path or URL) without aliases, as in the reference.
func applyOverride(ctx context.Context, worklist []*Node, o OrderOptions) error {
	l := len(o.Override)
	for i := l - 1; i >= 0; i-- {
		id := o.Override[i]
		ref, err := ParseRef(id, o.RefContext)
		if err != nil {
			return fmt.Errorf("Feature '%s' in 'overrideFeatureInstallOrder' could not be processed: %w", id, err)
		}
		ov := &Node{UserFeatureID: id, Options: jsonc.NewObject(), Ref: ref}
		prio := l - i
		var matched []*Node
		for _, n := range worklist {
			if softMatch(n, ov) {
				matched = append(matched, n)
			}
		}
		if len(matched) == 0 {
			continue // the reference ignores an entry that matches nothing
		}
		// The reference resolves every entry; an entry that matches a
		// feature must exist, so check it (it is cached by then).
		if _, err := o.Resolver.Resolve(ctx, ref, ""); err != nil {
			return fmt.Errorf("Feature '%s' in 'overrideFeatureInstallOrder' could not be processed: %w", id, err)
		}
		for _, n := range matched {
			n.Priority = max(n.Priority, prio)
		}
	}
	return nil
}

// linkSoftDeps turns each node's installsAfter references into soft edges
// to the features of the set that satisfy them, and drops the others (the
// reference's dangling soft-dependency removal). Nothing is fetched: a soft
// dependency is a reference to match, not a feature to install.
func linkSoftDeps(worklist []*Node, o OrderOptions) error {
	for _, n := range worklist {
		for _, id := range n.softPending {
			ref, err := ParseRef(id, o.RefContext)
			if err != nil {
				return fmt.Errorf("installsAfter dependency '%s' of Feature '%s' could not be processed: %w", id, n.UserFeatureID, err)
			}
			soft := &Node{UserFeatureID: id, Options: jsonc.NewObject(), Ref: ref}
			for _, w := range worklist {
				if satisfiesSoftDependency(w, soft) {
					n.installsAfter = append(n.installsAfter, soft)
					break
				}
			}
		}
		n.softPending = nil
	}
	return nil
}

// softMatch is satisfiesSoftDependency from refs alone (aliases of soft
// included when known).
func softMatch(node, soft *Node) bool {
	a, b := node.Ref, soft.Ref
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindOCI:
		if a.OCI.Resource == b.OCI.Resource {
			return true
		}
		prefix := b.OCI.Registry + "/" + b.OCI.Namespace
		for _, alias := range soft.Aliases {
			if alias != "" && prefix+"/"+alias == a.OCI.Resource {
				return true
			}
		}
		return false
	case KindLocal:
		return a.LocalPath == b.LocalPath
	case KindTarball:
		return a.TarballURL == b.TarballURL
	}
	return false
}

// satisfiesSoftDependency reports whether node satisfies the installsAfter
// reference soft: the same kind and, for OCI, the same canonical id
// (registry/namespace/id, lowercased, without tag or digest), or the same
// registry/namespace with soft's id among node's aliases
// ([currentId||id, ...legacyIds] of its metadata); local: the same path;
// tarball: the same URL. The reference reads the aliases from soft's own
// metadata, fetched for the purpose; a renamed feature carries the same
// aliases under each of its names, so node's (read already) give the same
// answer without a request.
func satisfiesSoftDependency(node, soft *Node) bool {
	if softMatch(node, soft) {
		return true
	}
	a, b := node.Ref, soft.Ref
	if a.Kind != KindOCI || b.Kind != KindOCI || a.OCI.Registry+"/"+a.OCI.Namespace != b.OCI.Registry+"/"+b.OCI.Namespace {
		return false
	}
	for _, alias := range node.Aliases {
		if alias != "" && strings.EqualFold(alias, b.OCI.ID) {
			return true
		}
	}
	return false
}

func equals(a, b *Node) bool {
	return a.Ref.Kind == b.Ref.Kind && compareTo(a, b) == 0
}

// compareTo is the reference comparator (§3.6 of the research notes).
func compareTo(a, b *Node) int {
	if a.Ref.Kind != b.Ref.Kind {
		return LocaleCompare(a.Ref.UserFeatureID, b.Ref.UserFeatureID)
	}
	switch a.Ref.Kind {
	case KindOCI:
		ad, bd := a.Source.ManifestDigest, b.Source.ManifestDigest
		if ad == bd && optionsCompare(a.Options, b.Options) == 0 {
			return 0
		}
		if v := ociResourceCompare(a, b); v != 0 {
			return v
		}
		at, bt := a.Ref.OCI.Tag, b.Ref.OCI.Tag
		if at != "" && bt != "" && at != bt {
			return LocaleCompare(at, bt)
		}
		if v := optionsCompare(a.Options, b.Options); v != 0 {
			return v
		}
		if ad != bd {
			return LocaleCompare(ad, bd)
		}
		return 0
	case KindLocal:
		if v := LocaleCompare(a.Ref.LocalPath, b.Ref.LocalPath); v != 0 {
			return v
		}
		return optionsCompare(a.Options, b.Options)
	case KindTarball:
		if v := LocaleCompare(a.Ref.TarballURL, b.Ref.TarballURL); v != 0 {
			return v
		}
		return optionsCompare(a.Options, b.Options)
	}
	return 0
}

func ociResourceCompare(a, b *Node) int {
	ar, br := a.Ref.OCI, b.Ref.OCI
	an, bn := ar.Registry+"/"+ar.Namespace, br.Registry+"/"+br.Namespace
	if an != bn {
		return LocaleCompare(an, bn)
	}
	aIDs, bIDs := a.Aliases, b.Aliases
	if aIDs == nil {
		aIDs = []string{ar.ID}
	}
	if bIDs == nil {
		bIDs = []string{br.ID}
	}
	common := ""
	for _, x := range aIDs {
		if common != "" {
			break
		}
		for _, y := range bIDs {
			if x == y {
				common = x
				break
			}
		}
	}
	if common == "" {
		return LocaleCompare(ar.ID, br.ID)
	}
	return 0
}

// optionsCompare is the reference's optionsCompareTo.
func optionsCompare(a, b jsonc.Value) int {
	as, aStr := a.(string)
	bs, bStr := b.(string)
	if aStr && bStr {
		return LocaleCompare(as, bs)
	}
	ab, aBool := a.(bool)
	bb, bBool := b.(bool)
	if aBool && bBool {
		return boolCompare(ab, bb)
	}
	ao, aObj := a.(*jsonc.Object)
	bo, bObj := b.(*jsonc.Object)
	if aObj && bObj {
		ak, bk := ao.Keys(), bo.Keys()
		if len(ak) != len(bk) {
			return sign(len(ak) - len(bk))
		}
		jsSort(ak, compareUTF16)
		jsSort(bk, compareUTF16)
		for i := range ak {
			if ak[i] != bk[i] {
				return LocaleCompare(ak[i], bk[i])
			}
			av, _ := ao.Get(ak[i])
			bv, _ := bo.Get(bk[i])
			avs, avStr := av.(string)
			bvs, bvStr := bv.(string)
			if avStr && bvStr {
				if v := LocaleCompare(avs, bvs); v != 0 {
					return v
				}
			}
			avb, avBool := av.(bool)
			bvb, bvBool := bv.(bool)
			if avBool && bvBool {
				if v := boolCompare(avb, bvb); v != 0 {
					return v
				}
			}
		}
		return 0
	}
	return LocaleCompare(jsonc.TypeOf(a), jsonc.TypeOf(b))
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// deprecatedIntoOptions are the legacy ids the reference folds into options
// of another feature.
var deprecatedIntoOptions = map[string]struct {
	mapTo  string
	option string
}{
	"gradle":     {"java", "installGradle"},
	"maven":      {"java", "installMaven"},
	"jupyterlab": {"python", "installJupyterlab"},
}

// MapDeprecatedFeatures is the reference's updateDeprecatedFeaturesIntoOptions:
// `gradle`, `maven` and `jupyterlab` become options of the java/python
// feature (an existing entry, or ghcr.io/devcontainers/features/<x>:1 added
// at the end), and are removed.
func MapDeprecatedFeatures(user []UserFeature) []UserFeature {
	out := append([]UserFeature(nil), user...)
	for i := 0; i < len(out); i++ {
		d, ok := deprecatedIntoOptions[out[i].Key]
		if !ok {
			continue
		}
		qualified := officialFeatures + "/" + d.mapTo
		target := -1
		for j, f := range out {
			if f.Key == d.mapTo || f.Key == qualified || len(f.Key) > len(qualified) && f.Key[:len(qualified)+1] == qualified+":" {
				target = j
				break
			}
		}
		if target >= 0 {
			var base *jsonc.Object
			switch t := out[target].Options.(type) {
			case *jsonc.Object:
				base = t
			case string:
				base = jsonc.NewObject()
				base.Set("version", t)
			}
			opts := jsonc.Spread(base)
			opts.Set(d.option, true)
			out[target].Options = opts
		} else {
			opts := jsonc.NewObject()
			opts.Set(d.option, true)
			out = append(out, UserFeature{Key: qualified + ":1", Options: opts})
		}
	}
	kept := out[:0]
	for _, f := range out {
		if _, dep := deprecatedIntoOptions[f.Key]; !dep {
			kept = append(kept, f)
		}
	}
	return kept
}
