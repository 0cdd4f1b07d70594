package cache

import (
	"fmt"
	"strings"
	"testing"

	"kiosk/playlists"
)

func play(item string, start int64) playlists.Play {
	return playlists.Play{Item: item, Playlist: "pl", Schedule: "s", Start: start, DurationMS: 1000}
}

func TestRecordPendingAck(t *testing.T) {
	c, path := openTemp(t)
	boot, err := c.BootID()
	if err != nil || boot == "" {
		t.Fatalf("BootID() = %q, %v; want a non-empty id", boot, err)
	}
	ids := map[string]bool{}
	for i := range 5 {
		p, err := c.RecordPlay(play(fmt.Sprintf("it%d", i), int64(1000+i)))
		if err != nil {
			t.Fatalf("RecordPlay %d: %v", i, err)
		}
		if !strings.HasPrefix(p.ID, boot+"-") || ids[p.ID] {
			t.Fatalf("play %d got id %q: want a new id starting with %q", i, p.ID, boot+"-")
		}
		ids[p.ID] = true
	}
	// An id the caller chose is kept.
	if p, err := c.RecordPlay(playlists.Play{ID: "mine", Item: "x", Start: 9}); err != nil || p.ID != "mine" {
		t.Fatalf("RecordPlay with id: got %q, %v; want mine", p.ID, err)
	}

	got, err := c.PendingPlays(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Play.Item != "it0" || got[2].Play.Item != "it2" {
		t.Fatalf("PendingPlays(3) = %+v; want it0..it2 oldest first", got)
	}
	if got[0].Seq >= got[1].Seq || got[1].Seq >= got[2].Seq {
		t.Fatalf("sequences %d %d %d are not increasing", got[0].Seq, got[1].Seq, got[2].Seq)
	}
	if err := c.AckPlays(got[2].Seq); err != nil {
		t.Fatal(err)
	}
	if st := c.PlayStats(); st.Pending != 3 || st.Dropped != 0 {
		t.Fatalf("PlayStats after ack = %+v; want 3 pending, 0 dropped", st)
	}

	// Reopen: pending plays, the boot id and the sequence survive, so new
	// ids never repeat old ones.
	c.Close()
	c2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if b2, _ := c2.BootID(); b2 != boot {
		t.Fatalf("boot id after reopen = %q, want %q", b2, boot)
	}
	p, err := c2.RecordPlay(play("after", 2000))
	if err != nil {
		t.Fatal(err)
	}
	if ids[p.ID] {
		t.Fatalf("id %q after reopen repeats an earlier id", p.ID)
	}
	rest, _ := c2.PendingPlays(100)
	var items []string
	for _, pp := range rest {
		items = append(items, pp.Play.Item)
	}
	if want := "it3 it4 x after"; strings.Join(items, " ") != want {
		t.Fatalf("pending after reopen = %v, want %s", items, want)
	}
	if _, err := c2.PendingPlays(0); err == nil {
		t.Fatal("PendingPlays(0): got nil error, want one")
	}
}

func TestPlayLogBound(t *testing.T) {
	c, _ := openTemp(t)
	c.SetMaxPlays(10)
	for i := range 25 {
		if _, err := c.RecordPlay(play(fmt.Sprintf("it%02d", i), int64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	st := c.PlayStats()
	if st.Pending != 10 || st.Dropped != 15 {
		t.Fatalf("PlayStats = %+v; want 10 pending, 15 dropped", st)
	}
	got, _ := c.PendingPlays(100)
	if len(got) != 10 || got[0].Play.Item != "it15" || got[9].Play.Item != "it24" {
		t.Fatalf("pending = %d plays from %q to %q; want it15..it24 (the newest)", len(got), got[0].Play.Item, got[len(got)-1].Play.Item)
	}
	// Acking everything empties the log; the sequence keeps growing.
	if err := c.AckPlays(got[9].Seq); err != nil {
		t.Fatal(err)
	}
	if st := c.PlayStats(); st.Pending != 0 {
		t.Fatalf("pending after acking all = %d, want 0", st.Pending)
	}
	if _, err := c.RecordPlay(play("next", 99)); err != nil {
		t.Fatal(err)
	}
	got2, _ := c.PendingPlays(10)
	if len(got2) != 1 || got2[0].Seq <= got[9].Seq {
		t.Fatalf("after emptying the log, new play has seq %v; want one play with seq > %d", got2, got[9].Seq)
	}
}
