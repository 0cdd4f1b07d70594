package player

import (
	"log/slog"
	"path/filepath"

	"kiosk/player/internal/cache"
	"kiosk/player/internal/syncer"
	"kiosk/player/internal/update"
)

// newUpdater sets up player updates (player/internal/update): offers from
// the server are downloaded next to the cache, verified against the release
// key and installed into cfg.InstallDir, the directory the launcher
// (deploy/kiosk-player-launch.sh) runs the player from. restart ends Run
// with ErrRestartRequested so the launcher starts the new binary.
func newUpdater(cfg Config, c *cache.Cache, token string, client *syncer.Client, restart func(), log *slog.Logger) (*update.Updater, error) {
	if cfg.ReleaseKey != "" {
		if err := c.PinReleaseKey(cfg.ReleaseKey); err != nil {
			return nil, err
		}
	}
	var layout *update.Layout
	if cfg.InstallDir != "" {
		layout = &update.Layout{Dir: cfg.InstallDir}
		if _, err := layout.Current(); err != nil {
			log.Warn("player updates cannot be installed", "error", err)
		}
	}
	return update.New(update.Config{
		Layout:   layout,
		CacheDir: filepath.Dir(c.Path()),
		Platform: cfg.Platform,
		Version:  Version,
		Server:   cfg.Server,
		Token:    token,
		Keys:     c,
		Trial:    cfg.UpdateTrial,
		Report:   client.SendHeartbeat,
		Restart:  restart,
		Now:      cfg.Now,
		Logger:   log,
	})
}
