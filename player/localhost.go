package player

import (
	"net"
	"net/http"
	"strings"
)

// hostGuard refuses requests whose Host header is a DNS name other than
// localhost. The kiosk page is meant for the screen's own browser; a web
// page elsewhere could point a name it controls at 127.0.0.1 (DNS
// rebinding) and read /state or the cached media through it. Such a
// request carries that name as its Host, while the kiosk browser uses an
// address or localhost, so names are refused and addresses pass.
func hostGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !localHost(r.Host) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMisdirectedRequest)
			w.Write([]byte(`{"error":"this page answers only to an IP address or localhost"}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func localHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil
}
