package api

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/publish"
	"kiosk/server/internal/store"
)

// fleetClock is a settable clock for the registry under test.
type fleetClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fleetClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fleetClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recountFleet is GET /fleet counted the slow way, from every screen
// record and every screen's health: what fleetCounts answered before the
// registry kept counts, and what its counts must always agree with.
func recountFleet(t testing.TB, h *handler, p *principal) fleetView {
	t.Helper()
	scrs, err := h.store.ListScreens()
	if err != nil {
		t.Fatal(err)
	}
	groups, err := h.store.ListGroups()
	if err != nil {
		t.Fatal(err)
	}
	if p.scoped() {
		scrs = inScope(p, scrs, func(s store.Screen) string { return s.Group })
		groups = slices.DeleteFunc(groups, func(g playlists.Group) bool { return !p.seesGroup(g.ID) })
	}
	zero := func() stateCounts {
		m := stateCounts{}
		for _, s := range devices.States {
			m[s] = 0
		}
		return m
	}
	subtrees := groupSubtrees(groups)
	v := fleetView{State: zero(), Ungrouped: zero(), Groups: make([]groupCounts, len(groups))}
	for i, g := range groups {
		v.Groups[i] = groupCounts{Group: g.ID, Name: g.Name, State: zero()}
	}
	for _, s := range scrs {
		st := h.devices.Health(s.ID).State
		v.Total++
		v.State[st]++
		if s.Group == "" {
			v.Ungrouped[st]++
			continue
		}
		for i, g := range groups {
			if subtrees[g.ID][s.Group] {
				v.Groups[i].Total++
				v.Groups[i].State[st]++
			}
		}
	}
	sort.Slice(v.Groups, func(i, j int) bool { return v.Groups[i].Group < v.Groups[j].Group })
	return v
}

// TestFleetCountsMatchRecount drives a fleet through a random sequence of
// creates, moves and deletes (through the API, as an admin does),
// connects, heartbeats (healthy and not), applied versions, publishes,
// disconnects and silence (a fake clock, and the registry's sweep), and
// after every step compares the counts the registry keeps with a full
// recount, for an unscoped principal and for people limited to some
// groups.
func TestFleetCountsMatchRecount(t *testing.T) {
	clk := &fleetClock{t: testNow}
	var pubMu sync.Mutex
	published := ""
	pub := func(string) string { pubMu.Lock(); defer pubMu.Unlock(); return published }
	var devs *devices.Registry
	v := newEnv(t, func(o *Options) {
		var err error
		devs, err = devices.New(devices.Options{Store: o.Store, Now: clk.now, OfflineAfter: time.Minute, Published: pub})
		if err != nil {
			t.Fatal(err)
		}
		o.Devices = devs
	})

	// A group tree three deep, and one group apart.
	groups := []playlists.Group{
		{ID: "district", Name: "区"}, {ID: "street", Name: "街道", Parent: "district"},
		{ID: "c1", Name: "一区", Parent: "street"}, {ID: "c2", Name: "二区", Parent: "street"},
		{ID: "c3", Name: "三区", Parent: "district"}, {ID: "apart", Name: "别处"},
	}
	for _, g := range groups {
		if _, err := v.st.CreateGroup(g); err != nil {
			t.Fatal(err)
		}
	}
	groupIDs := []string{"", "district", "street", "c1", "c2", "c3", "apart", "missing"}
	principals := map[string]*principal{
		"everyone": nil,
		"street":   {Scope: map[string]bool{"street": true, "c1": true, "c2": true}},
		"c3+apart": {Scope: map[string]bool{"c3": true, "apart": true}},
		"nothing":  {Scope: map[string]bool{}},
	}

	rnd := rand.New(rand.NewPCG(10, 10000))
	var ids []string
	pick := func() string { return ids[rnd.IntN(len(ids))] }
	group := func() string {
		g := groupIDs[rnd.IntN(len(groupIDs))]
		if g == "missing" {
			return "" // the API refuses a group that does not exist
		}
		return g
	}
	visited := map[devices.State]bool{}
	const steps = 600
	for step := range steps {
		var what string
		switch op := rnd.IntN(12); {
		case op == 0 || len(ids) < 3:
			g := group()
			created := must[struct{ ID string }](t, v.admin(http.MethodPost, "/api/v1/screens", map[string]any{"name": fmt.Sprintf("s%d", step), "group": g}), http.StatusCreated)
			ids = append(ids, created.ID)
			what = "create in " + g
		case op == 1:
			id, g := pick(), group()
			must[map[string]any](t, v.admin(http.MethodPut, "/api/v1/screens/"+id, map[string]any{"name": "moved", "group": g}), http.StatusOK)
			what = "move to " + g
		case op == 2 && len(ids) > 5:
			i := rnd.IntN(len(ids))
			if rec := v.admin(http.MethodDelete, "/api/v1/screens/"+ids[i], nil); rec.Code != http.StatusNoContent {
				t.Fatalf("delete: %d %s", rec.Code, rec.Body)
			}
			ids = slices.Delete(ids, i, i+1)
			what = "delete"
		case op == 3 || op == 4:
			if _, err := devs.Hello(pick(), playlists.Hello{AppliedVersion: "v0"}); err != nil {
				t.Fatal(err)
			}
			what = "connect"
		case op == 5:
			devs.Disconnected(pick())
			what = "disconnect"
		case op == 6:
			devs.Heartbeat(pick(), playlists.Heartbeat{PageAlive: rnd.IntN(3) > 0, UptimeS: 3600, DiskFreeBytes: 10 << 30})
			what = "heartbeat"
		case op == 7:
			pubMu.Lock()
			published = fmt.Sprintf("v%d", step)
			pubMu.Unlock()
			devs.EvaluateAll()
			what = "publish"
		case op == 8:
			pubMu.Lock()
			p := published
			pubMu.Unlock()
			devs.Applied(pick(), playlists.Applied{Version: p})
			what = "applied"
		default:
			clk.add(time.Duration(rnd.IntN(50)) * time.Second)
			devs.EvaluateAll()
			what = "silence"
		}
		for name, p := range principals {
			got, err := v.h.fleetCounts(p)
			if err != nil {
				t.Fatal(err)
			}
			if want := recountFleet(t, v.h, p); !reflect.DeepEqual(got, want) {
				t.Fatalf("step %d (%s), principal %s:\nkept    %+v\nrecount %+v", step, what, name, got, want)
			}
			for s, n := range got.State {
				visited[s] = visited[s] || n > 0
			}
		}
	}
	// The walk reached every state, or it proved less than it claims.
	for _, s := range devices.States {
		if !visited[s] {
			t.Errorf("no screen was ever %s during the walk", s)
		}
	}
}

// BenchmarkFleetCounts: one op is GET /fleet's counts for 10,000 screens
// in 110 groups two deep, half of them connected, for an unscoped
// principal and for one limited to a tenth of the groups. "recount" is
// the same answer counted from every screen record, as before the
// registry kept counts. Run with
//
//	go test -run '^$' -bench FleetCounts -benchtime 2s ./server/internal/api/
func BenchmarkFleetCounts(b *testing.B) {
	v := benchEnv(b)
	scope := map[string]bool{}
	var groups []string
	for i := range 10 {
		parent := fmt.Sprintf("street%d", i)
		if _, err := v.st.CreateGroup(playlists.Group{ID: parent, Name: parent}); err != nil {
			b.Fatal(err)
		}
		for j := range 10 {
			id := fmt.Sprintf("c%d-%d", i, j)
			if _, err := v.st.CreateGroup(playlists.Group{ID: id, Name: id, Parent: parent}); err != nil {
				b.Fatal(err)
			}
			groups = append(groups, id)
			if i == 0 {
				scope[parent], scope[id] = true, true
			}
		}
	}
	var ids []string
	for len(ids) < 10_000 {
		batch := make([]store.Screen, 1000)
		for i := range batch {
			batch[i] = store.Screen{Name: "s", Group: groups[(len(ids)+i)%len(groups)]}
		}
		created, tokens, err := v.st.CreateScreens(batch)
		if err != nil {
			b.Fatal(err)
		}
		for i, s := range created {
			v.devs.SetToken(s.ID, tokens[i])
			ids = append(ids, s.ID)
		}
	}
	for _, id := range ids[:5000] {
		if _, err := v.devs.Hello(id, playlists.Hello{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		p    *principal
	}{{"everyone", nil}, {"scoped", &principal{Scope: scope}}} {
		b.Run("kept/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.h.fleetCounts(c.p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("recount/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				recountFleet(b, v.h, c.p)
			}
		})
	}
}

// benchEnv is newEnv for a benchmark: the API over a fresh store.
func benchEnv(b *testing.B) *env {
	now := func() time.Time { return testNow }
	st, err := store.Open(b.TempDir(), now)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	pub := publish.New(publish.Options{Store: st, Now: now})
	devs, err := devices.New(devices.Options{Store: st, Version: pub.Version, Now: now, OfflineAfter: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	h, e := build(Options{Store: st, Devices: devs, Publisher: pub, Hub: &fakeHub{}, AdminToken: adminToken,
		MaxUploadBytes: 4096, Now: now, Metrics: prometheus.NewRegistry()})
	return &env{e: e, h: h, st: st, pub: pub, devs: devs}
}
