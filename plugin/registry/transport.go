package registry

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// BaseTransport is an HTTP transport with the environment's proxies and
// the system CAs plus caFiles (PEM). Without caFiles it is one transport
// shared by every client of the process, so that connections are reused,
// not leaked. The error names the file.
func BaseTransport(caFiles []string) (*http.Transport, error) {
	if len(caFiles) == 0 {
		return sharedTransport, nil
	}
	return newBaseTransport(caFiles)
}

// sharedTransport is the base transport without extra CAs.
var sharedTransport, _ = newBaseTransport(nil)

func newBaseTransport(caFiles []string) (*http.Transport, error) {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if len(caFiles) == 0 {
		return t, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, f := range caFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate found", f)
		}
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}
