// Package server runs the Kiosk content server: the store, the device hub,
// the JSON API and the admin UI, wired together by Run.
package server

import (
	"log/slog"
	"net"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultAddr           = "127.0.0.1:8080"
	DefaultMaxUploadBytes = 200 << 20
	DefaultOfflineAfter   = 90 * time.Second
	DefaultShutdownGrace  = 10 * time.Second
)

// Config is everything Run needs; cmd/kiosk-server fills it from flags and
// the environment.
type Config struct {
	Addr     string       // listen address, used when Listener is nil
	Listener net.Listener // optional: tests and the demo pass one bound to 127.0.0.1:0
	DataDir  string       // bbolt file and asset blobs; created if missing

	// AdminToken, if set, is accepted as "Authorization: Bearer <token>"
	// with the admin role.
	AdminToken string

	MaxUploadBytes int64         // largest accepted asset
	OfflineAfter   time.Duration // no heartbeat for this long → offline
	ShutdownGrace  time.Duration

	Logger *slog.Logger
	Now    func() time.Time // injected clock; time.Now when nil

	// Ready, if set, receives the bound address once the server listens.
	Ready chan<- string
}
