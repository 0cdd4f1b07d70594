package devices

import (
	"log/slog"
	"sync"

	"kiosk/server/internal/store"
)

// Kicker closes a screen's open connection (the hub's Kick), so a player
// whose token was replaced or whose screen was deleted is cut off at once.
type Kicker interface {
	Kick(screenID string)
}

// Screens owns a screen's lifecycle on the administrator's side: create
// (one, or a whole import), update, new token, pairing, delete. Each
// operation makes its store writes in one transaction, then brings the
// registry in step (tokens, groups, the live fleet's feed), then tells
// the hub; nothing is told when the write fails. The publisher needs no
// telling: it hears every committed screen change from the store itself
// (store.memindex). The device side of the lifecycle (hello, applied,
// heartbeat, disconnect, command delivery) is the Registry's hub Handler.
//
// Operations run one at a time, from the write to the kick, so the
// registry takes screens' changes in the order they were committed: two
// rotations of one token, or a rotation racing a delete, cannot leave the
// registry with a token the store no longer has. They are an
// administrator's, rare and short; the store serialises write
// transactions anyway.
type Screens struct {
	mu    sync.Mutex
	store *store.Store
	reg   *Registry
	kick  Kicker
	log   *slog.Logger
}

// NewScreens returns the owner of screens in st, keeping reg in step and
// kicking through kick (nil: nobody is kicked, for tests without a hub).
func NewScreens(st *store.Store, reg *Registry, kick Kicker) *Screens {
	return &Screens{store: st, reg: reg, kick: kick, log: reg.opts.Logger}
}

func (s *Screens) kicked(id string) {
	if s.kick != nil {
		s.kick.Kick(id)
	}
}

// Created is a new screen and its device token, shown this once.
type Created struct {
	Screen store.Screen
	Token  string
	// Default is what the screen's default playlist change did, when one
	// was asked for; nil otherwise.
	Default *store.DefaultResult
}

// Create stores sc with a fresh device token and, when dc is set, its
// default playlist (published with it, or drafted for review), all in one
// commit. The token authenticates at once.
func (s *Screens) Create(sc store.Screen, dc *store.DefaultChange) (Created, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	scr, token, res, err := s.store.CreateScreenWith(sc, dc)
	if err != nil {
		return Created{}, err
	}
	s.reg.SetToken(scr.ID, token)
	return Created{Screen: scr, Token: token, Default: res}, nil
}

// Import creates every screen of scs in one commit, each with its own
// token (in the same order), or none (store.ImportError names the row).
func (s *Screens) Import(scs []store.Screen) ([]store.Screen, []string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	created, tokens, err := s.store.CreateScreens(scs)
	if err != nil {
		return nil, nil, err
	}
	for i, sc := range created {
		s.reg.SetToken(sc.ID, tokens[i])
	}
	return created, tokens, nil
}

// Update replaces screen id's editable fields with sc's (its token and
// paired device stay) and, when dc is set, changes its default playlist
// (published, or drafted for review), in one commit. It returns the
// screen as published; res is nil without dc. The fleet counts follow a
// move between groups, and the live fleet shows the new name and group.
func (s *Screens) Update(id string, sc store.Screen, dc *store.DefaultChange) (store.Screen, *store.DefaultResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	scr, res, err := s.store.UpdateScreenWith(id, sc, dc)
	if err != nil {
		return store.Screen{}, nil, err
	}
	s.reg.Place(scr.ID, scr.Group)
	return scr, res, nil
}

// RotateToken gives screen id a new token, returned this once: the old
// one is refused from now on and the screen's open socket is closed, so
// only the new token reconnects. A screen paired by code stops being
// bound to its device key.
func (s *Screens) RotateToken(id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	token, err := s.store.RotateScreenToken(id)
	if err != nil {
		return "", err
	}
	s.reg.SetToken(id, token)
	s.kicked(id)
	return token, nil
}

// Pair completes a pairing: with id "", a new screen sc bound to dev;
// otherwise existing screen id gets a new token bound to dev (new
// hardware, a wiped card), and the old player, if it still runs, is cut
// off at once. It returns the screen and the token for the device.
func (s *Screens) Pair(id string, sc store.Screen, dev store.PairedDevice) (store.Screen, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		sc.Device = &dev
		scr, token, err := s.store.CreateScreen(sc)
		if err != nil {
			return store.Screen{}, "", err
		}
		s.reg.SetToken(scr.ID, token)
		return scr, token, nil
	}
	token, err := s.store.RepairScreen(id, dev)
	if err != nil {
		return store.Screen{}, "", err
	}
	s.reg.SetToken(id, token)
	s.kicked(id)
	// The index was updated by the commit just made: a read, no write.
	scr, err := s.store.GetScreen(id)
	if err != nil {
		return store.Screen{}, "", err
	}
	return scr, token, nil
}

// Delete removes screen id with its token, status and remote commands in
// one commit (refused while a schedule targets it by id), forgets it in
// the registry, closes its socket and removes its last screenshot (a
// file beside the database: a failure to remove it is logged, the screen
// stays deleted).
func (s *Screens) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store.DeleteScreen(id); err != nil {
		return err
	}
	s.reg.Forget(id)
	s.kicked(id)
	if err := s.store.DeleteScreenshot(id); err != nil {
		s.log.Warn("delete screenshot of deleted screen", "screen", id, "error", err)
	}
	return nil
}
