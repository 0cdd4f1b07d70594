package rollouts

import (
	"cmp"
	"slices"
	"time"

	"kiosk/server/internal/store"
)

// ScreenProgress is where one screen stands in a roll-out.
type ScreenProgress struct {
	Screen        string     `json:"screen"`
	Name          string     `json:"name"`
	Group         string     `json:"group,omitempty"`
	Canary        bool       `json:"canary"`
	State         string     `json:"state"` // waiting|pending|offered|downloading|downloaded|running|failed
	Online        bool       `json:"online"`
	PlayerVersion string     `json:"player_version"` // what it reports running now
	From          string     `json:"from,omitempty"`
	Platform      string     `json:"platform,omitempty"`
	Error         string     `json:"error,omitempty"`
	OfferedAt     *time.Time `json:"offered_at,omitempty"`
	UpdatedAt     *time.Time `json:"updated_at,omitempty"`
}

// View is a roll-out with every screen's progress and counts by state.
type View struct {
	store.Rollout
	Counts  map[string]int   `json:"counts"`
	Screens []ScreenProgress `json:"screens"`
}

// List returns every roll-out, newest first.
func (m *Manager) List() ([]store.Rollout, error) {
	if err := m.Flush(); err != nil {
		m.log.Warn("saving roll-out progress", "error", err)
	}
	return m.opts.Store.ListRollouts()
}

// Get returns roll-out id with every screen's progress, failed ones first.
func (m *Manager) Get(id string) (View, error) {
	r, err := m.opts.Store.GetRollout(id)
	if err != nil {
		return View{}, err
	}
	records := map[string]store.RolloutScreen{}
	m.mu.Lock()
	if a := m.cur; a != nil && a.r.ID == id {
		r = a.r
		for sid, p := range a.screens {
			records[sid] = *p
		}
	}
	m.mu.Unlock()
	if len(records) == 0 {
		saved, err := m.opts.Store.ListRolloutScreens(id)
		if err != nil {
			return View{}, err
		}
		for _, p := range saved {
			records[p.Screen] = p
		}
	}
	screens, err := m.opts.Store.ListScreens()
	if err != nil {
		return View{}, err
	}
	canary := m.canaryGroups(r)
	v := View{Rollout: r, Counts: map[string]int{}, Screens: make([]ScreenProgress, 0, len(screens))}
	for _, s := range screens {
		st, online := m.opts.Status(s.ID)
		sp := ScreenProgress{Screen: s.ID, Name: s.Name, Group: s.Group, Canary: canary[s.Group],
			Online: online, PlayerVersion: st.PlayerVersion}
		p, ok := records[s.ID]
		switch {
		case ok:
			sp.State, sp.From, sp.Platform, sp.Error = p.State, p.From, p.Platform, p.Error
			sp.OfferedAt, sp.UpdatedAt = &p.OfferedAt, &p.UpdatedAt
		case st.PlayerVersion == r.Version:
			sp.State = ScreenRunning
		case Included(r, s.ID, s.Group, canary):
			sp.State = ScreenPending
		default:
			sp.State = ScreenWaiting
		}
		v.Counts[sp.State]++
		v.Screens = append(v.Screens, sp)
	}
	order := map[string]int{ScreenFailed: 0, ScreenDownloaded: 1, ScreenDownloading: 2, ScreenOffered: 3,
		ScreenPending: 4, ScreenRunning: 5, ScreenWaiting: 6}
	slices.SortStableFunc(v.Screens, func(a, b ScreenProgress) int {
		return cmp.Or(cmp.Compare(order[a.State], order[b.State]), cmp.Compare(a.Name, b.Name))
	})
	return v, nil
}

// VersionCount is how many screens report one player version.
type VersionCount struct {
	Version string `json:"version"` // "" for screens that never reported one
	Screens int    `json:"screens"`
	Online  int    `json:"online"`
}

// Versions is the player version distribution across the fleet, most
// common first.
func (m *Manager) Versions() ([]VersionCount, error) {
	screens, err := m.opts.Store.ListScreens()
	if err != nil {
		return nil, err
	}
	by := map[string]*VersionCount{}
	for _, s := range screens {
		st, online := m.opts.Status(s.ID)
		vc := by[st.PlayerVersion]
		if vc == nil {
			vc = &VersionCount{Version: st.PlayerVersion}
			by[st.PlayerVersion] = vc
		}
		vc.Screens++
		if online {
			vc.Online++
		}
	}
	out := make([]VersionCount, 0, len(by))
	for _, vc := range by {
		out = append(out, *vc)
	}
	slices.SortFunc(out, func(a, b VersionCount) int {
		return cmp.Or(cmp.Compare(b.Screens, a.Screens), cmp.Compare(a.Version, b.Version))
	})
	return out, nil
}

// Builds lists the uploaded builds, newest first.
func (m *Manager) Builds() ([]store.PlayerBuild, error) { return m.opts.Store.ListPlayerBuilds() }
