package features

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/devcache/devcache/devcontainer/jsonc"
)

// metaResolver serves the features of a config from metadata JSON by
// reference and fails (as an unreachable registry does) for anything else,
// recording every request.
type metaResolver struct {
	meta     map[string]string // ref.ID → devcontainer-feature.json
	requests []string
}

func (r *metaResolver) Resolve(_ context.Context, ref *Ref, _ string) (*Source, error) {
	r.requests = append(r.requests, ref.ID)
	m, ok := r.meta[ref.ID]
	if !ok {
		return nil, fmt.Errorf("%s: dial tcp: connect: connection refused", ref.ID)
	}
	o, err := jsonc.Parse([]byte(m))
	if err != nil {
		return nil, err
	}
	obj := o.(*jsonc.Object)
	sum := sha256.Sum256([]byte(ref.ID))
	return &Source{Ref: ref, ManifestDigest: "sha256:" + hex.EncodeToString(sum[:]), DepMetadata: obj}, nil
}

func orderOf(t *testing.T, r *metaResolver, keys ...string) []string {
	t.Helper()
	var user []UserFeature
	for _, k := range keys {
		user = append(user, UserFeature{Key: k, Options: jsonc.NewObject()})
	}
	ws := "/ws"
	order, err := Order(context.Background(), user, OrderOptions{
		RefContext: RefContext{ConfigPath: ws + "/.devcontainer/devcontainer.json", Workspace: ws},
		Resolver:   r,
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range order {
		ids = append(ids, n.UserFeatureID)
	}
	return ids
}

// TestSoftDependencyNeverFetched: an installsAfter reference is matched
// against the config's features and never fetched, for OCI and local
// features alike: one that names no feature of the config (here on the
// same registry and namespace, which cannot be reached) is dropped; one that
// does orders, also through the legacy ids of either side.
func TestSoftDependencyNeverFetched(t *testing.T) {
	const ns = "reg.test/ns"
	cases := []struct {
		name string
		meta map[string]string
		keys []string
		want string
	}{{
		name: "oci, absent from the config",
		meta: map[string]string{ns + "/a:1": `{"id":"a","installsAfter":["` + ns + `/absent","other.test/x/y:2"]}`},
		keys: []string{ns + "/a:1"},
		want: ns + "/a:1",
	}, {
		name: "local, absent from the config",
		meta: map[string]string{"./l": `{"id":"l","installsAfter":["` + ns + `/absent","./not-there"]}`},
		keys: []string{"./l"},
		want: "./l",
	}, {
		name: "oci, present under another tag",
		meta: map[string]string{
			ns + "/aaa:1": `{"id":"aaa","installsAfter":["` + ns + `/zzz:2"]}`,
			ns + "/zzz:1": `{"id":"zzz"}`,
		},
		keys: []string{ns + "/aaa:1", ns + "/zzz:1"},
		want: ns + "/zzz:1 " + ns + "/aaa:1",
	}, {
		name: "oci, soft dependency names a legacy id of a config feature",
		meta: map[string]string{
			ns + "/aaa:1": `{"id":"aaa","installsAfter":["` + ns + `/oldname"]}`,
			ns + "/zzz:2": `{"id":"zzz","legacyIds":["oldname"]}`,
		},
		keys: []string{ns + "/aaa:1", ns + "/zzz:2"},
		want: ns + "/zzz:2 " + ns + "/aaa:1",
	}, {
		name: "oci, config uses the legacy id of the soft dependency",
		meta: map[string]string{
			ns + "/aaa:1":     `{"id":"aaa","installsAfter":["` + ns + `/zzz"]}`,
			ns + "/oldname:1": `{"id":"oldname","currentId":"zzz","legacyIds":["oldname"]}`,
		},
		keys: []string{ns + "/aaa:1", ns + "/oldname:1"},
		want: ns + "/oldname:1 " + ns + "/aaa:1",
	}, {
		name: "local and oci through one path",
		meta: map[string]string{
			"./l":         `{"id":"l","installsAfter":["` + ns + `/zzz"]}`,
			ns + "/zzz:1": `{"id":"zzz","installsAfter":["` + ns + `/absent"]}`,
		},
		keys: []string{"./l", ns + "/zzz:1"},
		want: ns + "/zzz:1 ./l",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &metaResolver{meta: map[string]string{}}
			for k, v := range c.meta {
				ref, err := ParseRef(k, RefContext{ConfigPath: "/ws/.devcontainer/devcontainer.json", Workspace: "/ws"})
				if err != nil {
					t.Fatal(err)
				}
				r.meta[ref.ID] = v
			}
			if got := strings.Join(orderOf(t, r, c.keys...), " "); got != c.want {
				t.Errorf("order %q, want %q", got, c.want)
			}
			if len(r.requests) != len(c.keys) {
				t.Errorf("requests %q, want one per config feature %q", r.requests, c.keys)
			}
		})
	}
}
