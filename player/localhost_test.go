package player

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHostGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h := hostGuard(ok)
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:8090", http.StatusOK},
		{"localhost:8090", http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"[::1]:8090", http.StatusOK},
		{"192.168.1.20:8090", http.StatusOK}, // a page shown from another device on the LAN
		{"evil.example.com:8090", http.StatusMisdirectedRequest},
		{"localhost.evil.example", http.StatusMisdirectedRequest},
		{"", http.StatusMisdirectedRequest},
	} {
		r := httptest.NewRequest(http.MethodGet, "/state", nil)
		r.Host = tc.host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("Host %q: status %d, want %d", tc.host, w.Code, tc.want)
		}
	}
}
