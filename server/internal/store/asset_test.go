package store

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"kiosk/playlists"
)

func TestAssetNameIsCleaned(t *testing.T) {
	long := strings.Repeat("法", MaxAssetNameRunes+20) + ".png"
	tests := []struct {
		in, want string
	}{
		{"poster.png", "poster.png"},
		{`C:\Users\lin\Desktop\停水 通知.jpg`, "停水 通知.jpg"},
		{"/home/lin/clip.mp4", "clip.mp4"},
		{"  bell\a\x00.png\n", "bell.png"},
		{"bad\xffbyte.png", "badbyte.png"},
		{"", ""},
		{long, strings.Repeat("法", MaxAssetNameRunes)},
	}
	for _, tt := range tests {
		if got := cleanAssetName(tt.in); got != tt.want || !utf8.ValidString(got) {
			t.Errorf("cleanAssetName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAssetUsesCountDraftsAndNotices: an asset is in use while a
// published item, an item drafted in an open or submitted change set, or
// an urgent notice in force shows it; a rejected or discarded draft and an
// expired notice do not count.
func TestAssetUsesCountDraftsAndNotices(t *testing.T) {
	s := openTest(t)
	put := func(name string) string {
		a, _, err := s.PutAssetFrom(bytes.NewReader(png(name)), 1<<20, AssetOrigin{Name: name + ".png", By: "lin"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != name+".png" || a.UploadedBy != "lin" {
			t.Fatalf("PutAssetFrom: got name %q by %q", a.Name, a.UploadedBy)
		}
		return a.SHA256
	}
	published, drafted, discarded, notice, expired := put("published"), put("drafted"), put("discarded"), put("notice"), put("expired")
	if _, err := s.CreateItem(playlists.Item{Kind: "psa", Title: "反诈", Asset: published, DurationS: 8}); err != nil {
		t.Fatal(err)
	}
	lin := Actor{ID: "usr_lin", Name: "lin"}
	cs, _, err := s.Draft(lin, Op{Action: OpCreate, Kind: KindItem, Item: &playlists.Item{Kind: "notice", Title: "停水", Asset: drafted, DurationS: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubmitChangeSet(cs.ID); err != nil {
		t.Fatal(err)
	}
	wang := Actor{ID: "usr_wang", Name: "wang"}
	gone, _, err := s.Draft(wang, Op{Action: OpCreate, Kind: KindItem, Item: &playlists.Item{Kind: "notice", Title: "作废", Asset: discarded, DurationS: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DiscardChangeSet(gone.ID); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		sha     string
		expires time.Time
	}{{notice, testNow.Add(time.Hour)}, {expired, testNow.Add(time.Minute)}} {
		if _, err := s.CreateUrgent(playlists.Urgent{Title: "燃气", Asset: u.sha, Target: playlists.Target{All: true}, ExpiresAt: u.expires}); err != nil {
			t.Fatal(err)
		}
	}
	// The short notice has expired by the time uses are read.
	s.now = func() time.Time { return testNow.Add(2 * time.Minute) }

	list, err := s.ListAssetsWithUses()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, a := range list {
		got[a.SHA256] = len(a.UsedBy)
		if a.UsedBy == nil {
			t.Errorf("asset %s: UsedBy is nil, want an empty list", a.SHA256)
		}
	}
	for name, tt := range map[string]struct {
		sha  string
		uses int
	}{
		"published item": {published, 1}, "submitted draft": {drafted, 1}, "discarded draft": {discarded, 0},
		"notice in force": {notice, 1}, "expired notice": {expired, 0},
	} {
		if got[tt.sha] != tt.uses {
			t.Errorf("%s: %d uses, want %d", name, got[tt.sha], tt.uses)
		}
		err := s.DeleteAsset(tt.sha)
		if tt.uses > 0 && !strings.Contains(errString(err), "in use") {
			t.Errorf("%s: DeleteAsset = %v, want in use", name, err)
		}
		if tt.uses == 0 && err != nil {
			t.Errorf("%s: DeleteAsset = %v, want deleted", name, err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
