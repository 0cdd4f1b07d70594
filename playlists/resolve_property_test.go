package playlists

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// Zones with DST both ways, one without, and Lord Howe, whose clocks move by
// half an hour, so the gap logic cannot assume whole hours.
var propertyZones = []string{"Asia/Shanghai", "America/New_York", "Europe/Berlin", "UTC", "Australia/Lord_Howe"}

// randomCron returns an expression, biased toward the hours DST moves.
func randomCron(rng *rand.Rand) string {
	switch rng.IntN(9) {
	case 0:
		return fmt.Sprintf("%d %d * * *", rng.IntN(60), rng.IntN(24))
	case 1:
		return fmt.Sprintf("%d %d * * 1-5", 15*rng.IntN(4), 6+rng.IntN(4))
	case 2:
		return fmt.Sprintf("*/%d * * * *", 5+rng.IntN(40))
	case 3:
		return fmt.Sprintf("0 %d %d * *", rng.IntN(24), 28+rng.IntN(4))
	case 4:
		return "@daily"
	case 5:
		return "@weekly"
	case 6:
		return fmt.Sprintf("%d 1,2,3 * * *", 10*rng.IntN(6))
	case 7:
		return fmt.Sprintf("%d 0-4 * * 0", rng.IntN(60))
	default:
		return fmt.Sprintf("%d %d * * %d", rng.IntN(60), rng.IntN(24), rng.IntN(7))
	}
}

var propertyDurations = []int{60, 900, 1800, 3600, 5400, 7200, 4 * 3600, 86400, 3 * 86400, MaxCronWindow}

// randomInstant falls around a spring-forward or fall-back weekend of 2025
// (both hemispheres), or in a quiet stretch, at any second.
func randomInstant(rng *rand.Rand) time.Time {
	starts := []time.Time{
		time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 25, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 10, 22, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 10, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 25, 0, 0, 0, 0, time.UTC),
	}
	base := starts[rng.IntN(len(starts))]
	return base.Add(time.Duration(rng.Int64N(int64(14 * 24 * time.Hour))))
}

func randomManifest(rng *rand.Rand, base time.Time) *Manifest {
	pls := map[string][]string{
		"default": {"d1", "d2"},
		"p1":      {"a1", "a2", "a3"},
		"p2":      {"b1"},
		"p3":      {"c1", "c2"},
		"empty":   {},
	}
	plNames := []string{"p1", "p2", "p3", "empty", "missing"}
	scheds := []Schedule{{ID: "default", Playlist: "default", Target: Target{All: true}}}
	for i := range 1 + rng.IntN(6) {
		s := Schedule{
			ID:       fmt.Sprintf("s%d", i),
			Playlist: plNames[rng.IntN(len(plNames))],
			Priority: rng.IntN(5) - 1,
			Target:   Target{All: true},
		}
		if rng.IntN(4) > 0 {
			s.Cron = randomCron(rng)
			s.DurationS = propertyDurations[rng.IntN(len(propertyDurations))]
		}
		if rng.IntN(3) == 0 {
			s.From = new(base.Add(time.Duration(rng.Int64N(int64(10*24*time.Hour))) - 5*24*time.Hour))
		}
		if rng.IntN(3) == 0 {
			lo := base.Add(-5 * 24 * time.Hour)
			if s.From != nil {
				lo = *s.From
			}
			s.To = new(lo.Add(time.Second + time.Duration(rng.Int64N(int64(10*24*time.Hour)))))
		}
		scheds = append(scheds, s)
	}
	return testManifest(propertyZones[rng.IntN(len(propertyZones))], pls, scheds...)
}

func sameAnswer(a, b Resolution) bool {
	return a.Priority == b.Priority && slices.Equal(a.Schedules, b.Schedules) && reflect.DeepEqual(a.Entries, b.Entries)
}

// contentActive is the set of schedules that can change the answer and are
// active at t.
func contentActive(m *Manifest, t time.Time) []string {
	var ids []string
	look := m.lookup()
	for _, s := range m.Schedules {
		if look.hasContent(s.Playlist) && s.Active(t, m.Location()) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func TestResolveProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(2025, 3))
	const manifests, instants, samples = 500, 4, 6
	for n := range manifests {
		base := randomInstant(rng)
		m := randomManifest(rng, base)
		for range instants {
			at := base.Add(time.Duration(rng.Int64N(int64(6*24*time.Hour))) - 3*24*time.Hour)
			got := m.Resolve(at)
			ctx := fmt.Sprintf("manifest %d (%s, %+v) at %s", n, m.Timezone, m.Schedules, at.Format(time.RFC3339Nano))

			if len(got.Entries) == 0 {
				t.Fatalf("%s: empty rotation despite an always-on default: %s", ctx, describe(got))
			}
			if again := m.Resolve(at); !reflect.DeepEqual(got, again) {
				t.Fatalf("%s: not deterministic:\n%s\n%s", ctx, describe(got), describe(again))
			}
			if !got.Until.IsZero() {
				if !got.Until.After(at) {
					t.Fatalf("%s: Until %v is not after T", ctx, got.Until)
				}
				if got.Until.After(at.Add(ResolveHorizon)) {
					t.Fatalf("%s: Until %v is beyond the horizon", ctx, got.Until)
				}
				// Until is a real change, not a guess.
				if before, after := contentActive(m, at), contentActive(m, got.Until); slices.Equal(before, after) {
					t.Fatalf("%s: nothing changes at Until %v (active %v both)", ctx, got.Until, before)
				}
			}

			end := got.Until
			if end.IsZero() {
				end = at.Add(ResolveHorizon)
			}
			probes := []time.Time{at.Add(time.Nanosecond), end.Add(-time.Nanosecond), end.Add(-time.Second)}
			for range samples {
				probes = append(probes, at.Add(time.Duration(rng.Int64N(int64(end.Sub(at))))))
			}
			for _, p := range probes {
				if p.Before(at) || !p.Before(end) {
					continue
				}
				later := m.Resolve(p)
				if !sameAnswer(got, later) {
					t.Fatalf("%s: answer changed at %v before Until %v:\n  T:  %s\n  T': %s", ctx, p, got.Until, describe(got), describe(later))
				}
				if !got.Until.IsZero() && !later.Until.Equal(got.Until) {
					t.Fatalf("%s: Until at %v is %v, want %v", ctx, p, later.Until, got.Until)
				}
			}
		}
	}
}

// referenceActive decides whether a cron schedule is open at t by brute
// force: it walks every whole minute in (t-dur, t], asks whether the wall
// clock there matches the expression (robfig's Next used only as a matcher,
// in a fixed zone where it cannot skip anything), and treats a minute at
// which the clock jumps forward as firing for every wall minute it skips.
func referenceActive(t *testing.T, s Schedule, at time.Time, loc *time.Location) bool {
	spec, err := ParseDaypart(s.Cron)
	if err != nil {
		t.Fatalf("reference: %v", err)
	}
	matches := func(wall time.Time) bool {
		return spec.Next(wall.Add(-time.Second)).Equal(wall)
	}
	inDates := (s.From == nil || !at.Before(*s.From)) && (s.To == nil || at.Before(*s.To))
	if !inDates {
		return false
	}
	dur := time.Duration(s.DurationS) * time.Second
	for mi := at.Truncate(time.Minute); mi.After(at.Add(-dur)); mi = mi.Add(-time.Minute) {
		_, off := mi.In(loc).Zone()
		if matches(mi.In(time.FixedZone("", off))) {
			return true
		}
		_, prev := mi.Add(-time.Second).In(loc).Zone()
		if off > prev {
			old := time.FixedZone("", prev)
			for w := mi.In(old); w.Before(mi.Add(time.Duration(off-prev) * time.Second)); w = w.Add(time.Minute) {
				if matches(w) {
					return true
				}
			}
		}
	}
	return false
}

func TestActiveMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	shortDurations := []int{60, 600, 1800, 3600, 5400, 7200, 4 * 3600}
	for n := range 150 {
		loc := mustLoc(t, propertyZones[rng.IntN(len(propertyZones))])
		s := Schedule{Cron: randomCron(rng), DurationS: shortDurations[rng.IntN(len(shortDurations))]}
		base := randomInstant(rng)
		for range 40 {
			at := base.Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))
			if rng.IntN(3) == 0 {
				at = at.Truncate(time.Minute) // whole minutes are where edges sit
			}
			got := s.Active(at, loc)
			want := referenceActive(t, s, at, loc)
			if got != want {
				t.Fatalf("case %d: Schedule{Cron: %q, DurationS: %d}.Active(%s in %s) = %v, brute force says %v",
					n, s.Cron, s.DurationS, at.In(loc).Format(time.RFC3339), loc, got, want)
			}
		}
	}
}
