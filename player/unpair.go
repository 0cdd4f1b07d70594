package player

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"kiosk/player/internal/cache"
)

// unpairAfter refusals in a row of a credential saved at pairing mean the
// server no longer knows it (the screen was deleted, or re-paired onto
// other hardware): the player forgets it and restarts into pairing, so a
// technician can adopt it again from its code instead of wiping the card.
// Several in a row, so a server restoring from a backup does not unpair
// the fleet on its first answer.
const unpairAfter = 5

type unpairer struct {
	paired bool // the token came from pairing, not from -token
	cache  *cache.Cache
	log    *slog.Logger

	mu   sync.Mutex
	stop context.CancelFunc
	done atomic.Bool
}

func (u *unpairer) setStop(stop context.CancelFunc) {
	u.mu.Lock()
	u.stop = stop
	u.mu.Unlock()
}

// refused hears the syncer's refusals; a token given with -token is the
// installer's to fix and is never forgotten.
func (u *unpairer) refused(inARow int) {
	if !u.paired || inARow < unpairAfter || !u.done.CompareAndSwap(false, true) {
		return
	}
	u.log.Error("the server refuses this screen's saved credential (screen deleted or re-paired elsewhere); forgetting it and restarting to show a pairing code",
		"refusals_in_a_row", inARow)
	if err := u.cache.ClearCredentials(); err != nil {
		u.log.Error("forget the saved credential", "error", err)
	}
	u.mu.Lock()
	stop := u.stop
	u.mu.Unlock()
	if stop != nil {
		stop()
	}
}
