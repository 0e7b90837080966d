package registry

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Mirror sends a registry's requests to another registry, optionally under
// a path prefix (artifact managers such as Artifactory or Nexus proxy
// Docker Hub at host/prefix). References, and so Plans and keys, keep
// the original names: a mirror changes where bytes come from, not what
// they are (every pull is by digest or verified against one).
type Mirror struct {
	from     string // registry host as ggcr names it (index.docker.io for Docker Hub)
	toHost   string
	toPrefix string // "" or "path/segments" without slashes around
	scheme   string // "https" or "http"
}

// ParseMirrors parses FROM=TO[/PREFIX] values. TO may start with http://
// or https://; without a scheme, loopback hosts get plain HTTP and others
// HTTPS. An error quotes the value.
func ParseMirrors(vals []string) ([]Mirror, error) {
	var out []Mirror
	for _, v := range vals {
		from, to, ok := strings.Cut(v, "=")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("%q: want FROM=TO, e.g. docker.io=mirror.example.com/dockerhub", v)
		}
		m := Mirror{from: registryHost(from), scheme: "https"}
		explicit := true
		switch {
		case strings.HasPrefix(to, "http://"):
			m.scheme, to = "http", strings.TrimPrefix(to, "http://")
		case strings.HasPrefix(to, "https://"):
			to = strings.TrimPrefix(to, "https://")
		default:
			explicit = false
		}
		host, prefix, _ := strings.Cut(strings.Trim(to, "/"), "/")
		if _, err := name.NewRegistry(host); err != nil {
			return nil, fmt.Errorf("%q: %v", v, err)
		}
		m.toHost, m.toPrefix = host, strings.Trim(prefix, "/")
		if !explicit && isLoopbackHost(host) {
			m.scheme = "http" // as go-containerregistry treats loopback registries
		}
		out = append(out, m)
	}
	return out, nil
}

// isLoopbackHost tells whether host[:port] is a loopback name or address.
func isLoopbackHost(hostport string) bool {
	h := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// rewriteTransport applies the mirrors and the plain-HTTP hosts.
type rewriteTransport struct {
	inner    http.RoundTripper
	mirrors  []Mirror
	insecure map[string]bool
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	changed := false
	for _, m := range t.mirrors {
		if u.Host != m.from && !(m.from == name.DefaultRegistry && u.Host == "registry-1.docker.io") {
			continue
		}
		u.Host, u.Scheme = m.toHost, m.scheme
		if m.toPrefix != "" && strings.HasPrefix(u.Path, "/v2/") && u.Path != "/v2/" {
			u.Path = "/v2/" + m.toPrefix + "/" + strings.TrimPrefix(u.Path, "/v2/")
			u.RawPath = ""
		}
		changed = true
		break
	}
	if u.Scheme == "https" && t.insecure[u.Host] {
		u.Scheme, changed = "http", true
	}
	if !changed {
		return t.inner.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL = &u
	r.Host = u.Host
	return t.inner.RoundTrip(r)
}

// mirrorKeychain looks up a mirrored registry's credentials under the
// mirror's host: they are sent to the mirror.
type mirrorKeychain struct {
	inner   authn.Keychain
	mirrors []Mirror
}

func (k mirrorKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	for _, m := range k.mirrors {
		if r.RegistryStr() == m.from {
			reg, err := name.NewRegistry(m.toHost)
			if err != nil {
				return nil, err
			}
			return k.inner.Resolve(reg)
		}
	}
	return k.inner.Resolve(r)
}

// registryHost normalises Docker Hub's names to the host ggcr talks to.
func registryHost(h string) string {
	switch h {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return name.DefaultRegistry
	}
	return h
}
