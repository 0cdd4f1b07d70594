package player

import (
	"context"
	"log/slog"
	"time"

	"kiosk/player/internal/cache"
	"kiosk/player/internal/syncer"
	"kiosk/playlists"
)

// finalFlushTimeout bounds the last upload when the player stops: a
// supervisor restarting the player should not wait on an unreachable server.
const finalFlushTimeout = 3 * time.Second

// recordPlay writes a play the display reports to the cache's play log,
// which the syncer uploads. A failed write loses that one play; it is
// logged, because reports will be short by it.
func recordPlay(c *cache.Cache, p playlists.Play, hook func(playlists.Play), log *slog.Logger) {
	p, err := c.RecordPlay(p)
	if err != nil {
		log.Error("proof of play not recorded", "item", p.Item, "start", p.Start, "error", err)
		return
	}
	if hook != nil {
		hook(p)
	}
}

// flushFinalPlays tries one last upload after the display stopped.
func flushFinalPlays(client *syncer.Client, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), finalFlushTimeout)
	defer cancel()
	if err := client.FlushPlays(ctx); err != nil {
		log.Info("plays not uploaded before stopping; they stay in the cache for next time", "error", err)
	}
}
