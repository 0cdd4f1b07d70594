package playlists

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUrgentValidate(t *testing.T) {
	now := time.Date(2025, 6, 3, 10, 0, 0, 0, time.UTC)
	ok := func() Urgent {
		return Urgent{Title: "3号楼停水", Body: "今日 18:00 前停水", Target: Target{Groups: []string{"cuiyuan"}}, ExpiresAt: now.Add(8 * time.Hour)}
	}
	tests := []struct {
		name   string
		edit   func(*Urgent)
		field  string // "" means valid
		reason string
	}{
		{"valid", func(*Urgent) {}, "", ""},
		{"all screens", func(u *Urgent) { u.Target = Target{All: true} }, "", ""},
		{"exactly the limit ahead", func(u *Urgent) { u.ExpiresAt = now.Add(MaxUrgentAhead) }, "", ""},
		{"no title", func(u *Urgent) { u.Title = "  " }, "title", "required"},
		{"long title", func(u *Urgent) { u.Title = strings.Repeat("水", MaxTitleRunes+1) }, "title", "at most"},
		{"long body", func(u *Urgent) { u.Body = strings.Repeat("水", MaxBodyRunes+1) }, "body", "at most"},
		{"bad asset", func(u *Urgent) { u.Asset = "nope" }, "asset", "sha256"},
		{"no target", func(u *Urgent) { u.Target = Target{} }, "target", "at least one"},
		{"no expiry", func(u *Urgent) { u.ExpiresAt = time.Time{} }, "expires_at", "required"},
		{"expired", func(u *Urgent) { u.ExpiresAt = now.Add(-time.Second) }, "expires_at", "future"},
		{"expires now", func(u *Urgent) { u.ExpiresAt = now }, "expires_at", "future"},
		{"too far ahead", func(u *Urgent) { u.ExpiresAt = now.Add(MaxUrgentAhead + time.Second) }, "expires_at", "schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := ok()
			tt.edit(&u)
			err := u.Validate(now)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var fe FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate = %v, want a FieldError on %s", err, tt.field)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Problem, tt.reason) {
				t.Errorf("Validate = %q, want field %s with %q", err, tt.field, tt.reason)
			}
		})
	}
}

func TestActiveUrgentOrderAndExpiry(t *testing.T) {
	t0 := time.Date(2025, 6, 3, 10, 0, 0, 0, time.UTC)
	m := &Manifest{Urgent: []Urgent{
		{ID: "u-old", Title: "old", CreatedAt: t0, ExpiresAt: t0.Add(3 * time.Hour)},
		{ID: "u-new", Title: "new", CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)},
		{ID: "u-b", Title: "same time b", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)},
		{ID: "u-gone", Title: "gone", CreatedAt: t0, ExpiresAt: t0.Add(-time.Second)},
	}}
	ids := func(us []Urgent) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	tests := []struct {
		at       time.Time
		want     []string
		wantNext time.Time
	}{
		{t0.Add(2 * time.Minute), []string{"u-new", "u-b", "u-old"}, t0.Add(time.Hour)},
		{t0.Add(time.Hour - time.Nanosecond), []string{"u-new", "u-b", "u-old"}, t0.Add(time.Hour)},
		{t0.Add(time.Hour), []string{"u-b", "u-old"}, t0.Add(2 * time.Hour)}, // ends exactly at ExpiresAt
		{t0.Add(150 * time.Minute), []string{"u-old"}, t0.Add(3 * time.Hour)},
		{t0.Add(3 * time.Hour), nil, time.Time{}},
	}
	for _, tt := range tests {
		if got := ids(m.ActiveUrgent(tt.at)); !slices.Equal(got, tt.want) {
			t.Errorf("ActiveUrgent(%v) = %v, want %v", tt.at, got, tt.want)
		}
		if got := m.NextUrgentChange(tt.at); !got.Equal(tt.wantNext) {
			t.Errorf("NextUrgentChange(%v) = %v, want %v", tt.at, got, tt.wantNext)
		}
	}
}

func TestBuildManifestUrgent(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	c := testCatalog(now)
	shaGone := strings.Repeat("d", 64)
	c.Urgent = []Urgent{
		{ID: "u-street", Title: "华阳路封路", Target: Target{Groups: []string{"huayang-rd"}}, Asset: shaA, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{ID: "u-b", Title: "3号楼停水", Target: Target{Screens: []string{"scr-b"}}, Asset: shaGone, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{ID: "u-expired", Title: "old", Target: Target{All: true}, CreatedAt: now, ExpiresAt: now},
		{ID: "u-elderly", Title: "老人注意", Target: Target{Tags: []string{"elderly"}}, CreatedAt: now.Add(time.Second), ExpiresAt: now.Add(time.Hour)},
	}
	tests := []struct {
		screen ScreenContext
		want   []string
	}{
		{screenA, []string{"u-elderly", "u-street"}},
		{screenB, []string{"u-b", "u-street"}},
		{screenC, nil},
	}
	for _, tt := range tests {
		m := BuildManifest(tt.screen, c, now)
		var got []string
		for _, u := range m.Urgent {
			got = append(got, u.ID)
			if u.ID == "u-b" && u.Asset != "" {
				t.Errorf("%s: notice with a missing asset kept asset %q, want it shown as text", tt.screen.ID, u.Asset)
			}
			if u.ID == "u-street" {
				if _, ok := m.Asset(shaA); !ok {
					t.Errorf("%s: asset of u-street not in the manifest", tt.screen.ID)
				}
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: urgent = %v, want %v", tt.screen.ID, got, tt.want)
		}
		if v := m.ComputeVersion(); v != m.Version {
			t.Errorf("%s: version %s does not match content %s", tt.screen.ID, m.Version, v)
		}
	}
}

// A manifest without notices or default must encode exactly as it did
// before those fields existed, or every screen would refetch for nothing.
func TestManifestWithoutUrgentOmitsFields(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	c := testCatalog(now)
	c.Urgent = []Urgent{{ID: "u", Title: "x", Target: Target{All: true}, ExpiresAt: now.Add(-time.Hour)}}
	m := BuildManifest(screenC, c, now)
	b, err := jsonMarshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{`"urgent"`, `"default_playlist"`} {
		if strings.Contains(string(b), f) {
			t.Errorf("manifest encodes %s although it has none: %s", f, b)
		}
	}
}
