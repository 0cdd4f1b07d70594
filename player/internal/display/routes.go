package display

import "net/http"

// Handler returns the local HTTP surface. The caller binds it to loopback:
// the page and its data are for the browser on this screen only.
//
//	GET  /                  kiosk page (strict CSP)
//	GET  /static/{file}     page script and style
//	GET  /events            Server-Sent Events: show, clock, identify, reload
//	POST /alive             page liveness report
//	GET  /media/{sha256}    cached media of the current manifest (Range, ETag)
//	GET  /state             JSON status for technicians and tests
//
// Anything but GET, HEAD and OPTIONS is refused (403) when a browser sends
// it from another origin: any page open on the device could post otherwise.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handlePage)
	mux.HandleFunc("GET /static/{file}", s.handleStatic)
	mux.HandleFunc("GET /events", s.handleEvents)
	mux.HandleFunc("POST /alive", s.handleAlive)
	mux.HandleFunc("GET /media/{sha256}", s.handleMedia)
	mux.HandleFunc("GET /state", s.handleState)
	return pageOnly(mux)
}
