package conformance

import "net/http"

// httpClient downloads tarballs; tests that serve https replace it.
var httpClient = http.DefaultClient
