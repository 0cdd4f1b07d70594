// Package playlists owns the domain shared by the server and the player:
// items, playlists, schedules, targets, screens, the manifest a screen plays
// from, the messages that cross the websocket, and the rules that decide what
// plays on a screen at a given instant.
//
// It does no I/O and imports neither the server nor the player, so the very
// same code computes a manifest on the server and resolves it on the screen.
// The time zone database is embedded (time/tzdata), so a screen on a minimal
// image still knows what Asia/Shanghai means.
//
// # What plays when
//
// [Manifest.Resolve] answers "what plays on this screen at instant T" from
// the screen's manifest alone, so a screen that lost its connection keeps
// following the schedule. The rules:
//
// A schedule is active at T when T lies in its date window and, if it has a
// daypart, inside one of the daypart's windows.
//
//   - The date window is From (inclusive) to To (exclusive); either may be
//     left out. "The monthly featured law (每月一法) all of March on every
//     screen" is from 2025-03-01T00:00+08:00 to 2025-04-01T00:00+08:00,
//     priority 10, no cron. At 2025-04-01 00:00:00 exactly it is over.
//   - A daypart is a cron expression (robfig/cron/v3 standard five fields,
//     or a descriptor such as @daily or @weekly; never @every and never a
//     CRON_TZ= prefix) with DurationS: a window opens at each fire and lasts
//     DurationS seconds. "Traffic-safety ads on weekday mornings 7:00–9:00"
//     is cron "0 7 * * 1-5", duration_s 7200: open from 07:00:00, closed
//     again at 09:00:00.
//   - Standard cron fires on either day field when both are restricted
//     ("0 8 1-7 * 1" is every Monday and also the 1st to the 7th), so it
//     cannot say "the first Monday of the month". Dayparts accept one
//     extension for that: a weekday field "D#N", the Nth weekday D of the
//     month, with the day-of-month field "*". "Legal aid day, the first
//     Monday 08:00–12:00" is "0 8 * * 1#1", duration_s 14400; "5#5" (a
//     fifth Friday) fires only in months that have one.
//   - Dayparts evaluate in the manifest's time zone (the screen's; default
//     Asia/Shanghai), never in the zone of the machine or of T.
//   - Windows may cross midnight and month ends. "Anti-fraud stories
//     (反诈) for elderly residents on Friday nights 22:00–02:00" is
//     "0 22 * * 5", duration_s 14400, and still runs at 01:00 on Saturday.
//     "0 20 31 * *" for 10 hours runs from 20:00 on 31 January to 06:00 on
//     1 February, and does not fire at all in 30-day months.
//   - Windows of one schedule that overlap or touch merge into one.
//   - The date window clips the daypart: a 07:00–09:00 window on a schedule
//     that starts at 08:00 is active from 08:00 to 09:00.
//   - A schedule with neither a date window nor a daypart is always active:
//     at priority 0 it is the natural default (e.g. "district news" for the
//     whole 街道).
//   - A rule that Validate refuses (bad cron, duration of zero or over a
//     week) is never active, so one broken row cannot take a screen dark.
//
// Among the schedules active at T, the highest priority wins. Schedules of
// equal priority are merged into one rotation, interleaved by position in
// order of schedule id: with A = [A1 A2 A3 A4] and B = [B1 B2] the rotation
// is A1 B1 A2 B2 A3 A4, so morning traffic ads and the monthly law both
// reach residents throughout the morning instead of one waiting for the
// other. Two winners sharing a playlist show it once.
//
// A schedule whose playlist is empty (or whose items and media the manifest
// left out) never wins: Resolve falls through to the next lower priority
// that has something to show. This is how "a default fills every gap": an
// urgent-looking but empty priority 50 schedule cannot blank a screen. When
// nothing at all has items, the Resolution is empty and the player shows
// its fallback screen.
//
// # Default playlist
//
// A screen or a group may name a default playlist; the manifest carries the
// nearest one (the screen's own, else its group's, else the closest
// ancestor's that sets one) as DefaultPlaylist. It sits below every
// schedule, whatever the schedule's priority: Resolve plays it only when no
// schedule with items is active, and then sets Resolution.Default and
// leaves the entries' Schedule empty. "District news (社区新闻) whenever
// nothing else is on" is a default playlist on the street (街道) group; a
// compound under it that wants its own sets its own. If the default is
// empty too, the Resolution is empty and the player shows its fallback
// screen. A priority-0 schedule with no rule does the same job for the
// screens it targets and remains the way to merge a filler into a rotation.
//
// # Urgent notices
//
// An [Urgent] notice ("water cut in buildings 3–5, until 18:00") is not a
// schedule: it covers whatever plays on the screens it targets, full
// screen, from the moment the screen receives it until ExpiresAt (exclusive,
// on the server-corrected clock) or until it is withdrawn (the server sends
// a manifest without it). [Manifest.ActiveUrgent] gives the notices in
// force, newest first; several rotate, UrgentSlot each, and one just sent
// goes up at once. While a notice is up the rotation underneath stands
// still and its item counts as interrupted; when the last notice ends the
// interrupted item starts again with its full time. Notices expire on the
// screen itself, so one whose server is unreachable still comes down on
// time. They reach at most MaxUrgentAhead into the future.
//
// # Preview
//
// [Timeline] walks Resolve from one Until to the next and returns the
// segments a screen will play, split also where urgent notices expire, so
// staff see "tomorrow 07:00–09:00: 交通安全 with 每月一法 merged" computed by
// the very code the screen runs.
//
// Each segment also names the schedules it outranked (active, with items,
// but below the winning priority), so the admin calendar can say why a
// schedule is not on.
//
// Resolution.Until is the next instant after T at which a schedule that has
// items opens or closes (a From, a To, a window opening at a fire or
// closing DurationS later), exact to the nanosecond, so a player can sleep
// until then and switch at 09:00:00 sharp. It is zero when nothing changes
// in the next [ResolveHorizon] (8 days). A change of a lower priority counts
// even when the winner stays the same, so compare before restarting a
// rotation.
//
// # Daylight saving time
//
// China has no DST, but the rules are defined for zones that do, and the
// tests use America/New_York, Europe/Berlin and Australia/Lord_Howe.
//
// A rule fires at every instant whose wall-clock time in the screen's zone
// matches the expression, and its window is DurationS seconds of real
// elapsed time from that instant, not a span of wall-clock time.
//
//   - Spring forward (New York, 2025-03-09: 02:00 EST becomes 03:00 EDT):
//     wall times from 02:00 to 02:59 do not exist. A rule for one of them,
//     say "30 2 * * *" for an hour, fires when the clock jumps, at 03:00
//     EDT, and closes at 04:00 EDT; several skipped fires ("*/15 2 * * *")
//     collapse into that one. This is what cron(8) does; robfig's own Next
//     would skip the day silently. A window spanning the jump keeps its real
//     length: "0 1 * * *" for 7200 s runs 01:00 EST to 04:00 EDT.
//   - Fall back (New York, 2025-11-02: 02:00 EDT becomes 01:00 EST): wall
//     times from 01:00 to 01:59 happen twice, and a rule for one of them
//     fires twice. "30 1 * * *" for 30 minutes shows 01:30–02:00 EDT and
//     again 01:30–02:00 EST. A longer window merges with its repeat:
//     "0 1 * * *" for 7200 s runs from 01:00 EDT to 03:00 EST, ending at
//     the wall-clock time staff wrote down. A rule outside the repeated
//     hour ("30 2 * * *") fires once.
package playlists
