package publish

import (
	"fmt"
	"testing"
)

// Recompute after one change at 10,000 screens, in process: the write
// (and its fsync) is outside the timer, the recompute the publisher runs
// on the store's notice is inside. Run with a fixed count, e.g.
//
//	go test -run '^$' -bench Recompute -benchtime 200x ./server/internal/publish/
//
// (each iteration writes once to a bbolt file).

const benchScreens = 10000

func BenchmarkRecomputeOneScreen10k(b *testing.B) {
	f := newFixture(b, benchScreens)
	id := f.ids[len(f.ids)/2]
	sc := must(f.st.GetScreen(id))
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		sc.Name = fmt.Sprint("屏", i)
		sc.Timezone = []string{"Asia/Tokyo", "Asia/Seoul"}[i%2]
		must(f.st.UpdateScreen(id, sc))
		b.StartTimer()
		if r, _ := f.step(b); r.Full || r.Screens != 1 {
			b.Fatalf("recompute %+v, want one screen", r)
		}
	}
}

func BenchmarkRecomputeGroup10k(b *testing.B) {
	f := newFixture(b, benchScreens)
	g := must(f.st.GetGroup("c3")) // a fifth of the screens
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		g.Name = fmt.Sprint("小区", i)
		must(f.st.UpdateGroup(g.ID, g))
		b.StartTimer()
		if r, _ := f.step(b); r.Full {
			b.Fatalf("recompute %+v, want partial", r)
		}
	}
}

func BenchmarkRecomputeCatalog10k(b *testing.B) {
	f := newFixture(b, benchScreens)
	pl := f.pls[1]
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		pl.Items = []string{f.items[i%len(f.items)].ID}
		must(f.st.UpdatePlaylist(pl.ID, pl))
		b.StartTimer()
		if r, _ := f.step(b); !r.Full || !r.Catalog {
			b.Fatalf("recompute %+v, want a recut of every screen from the catalog", r)
		}
	}
}

// BenchmarkRecomputeCatalogAll10k edits the playlist scheduled on every
// screen: every screen's manifest changes and is pushed, the most a
// content change can cost.
func BenchmarkRecomputeCatalogAll10k(b *testing.B) {
	f := newFixture(b, benchScreens)
	pl := f.pls[0]
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		pl.Items = []string{f.items[i%len(f.items)].ID, f.items[(i+1)%len(f.items)].ID}
		must(f.st.UpdatePlaylist(pl.ID, pl))
		b.StartTimer()
		if r, _ := f.step(b); !r.Full || r.Changed != len(f.ids) {
			b.Fatalf("recompute %+v, want every one of %d screens changed", r, len(f.ids))
		}
	}
}

// BenchmarkFullRecompute10k is the time-driven recompute (a schedule ends,
// the periodic refresh): every screen, from the in-memory index.
func BenchmarkFullRecompute10k(b *testing.B) {
	f := newFixture(b, benchScreens)
	b.ResetTimer()
	for range b.N {
		if err := f.p.Publish(); err != nil {
			b.Fatal(err)
		}
	}
}
