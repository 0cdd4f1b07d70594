package kioskctl

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

var reportGroupings = []string{"item", "screen", "group", "day"}

func runReportPlays(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", `Proof of play: how often and how long content played in [--from, --to),
per item, screen, group or day. With -o, the server's CSV (UTF-8 with a BOM,
so spreadsheet programs read Chinese titles right) is written to the file.`)
	from := fs.String("from", "", "start: 2026-05-01 (Beijing midnight) or RFC 3339 (required)")
	to := fs.String("to", "", "end, exclusive, same forms (required)")
	by := fs.String("by", "item", "rows per: item, screen, group or day")
	group := fs.String("group", "", "only plays on screens of this group")
	screen := fs.String("screen", "", "only plays on this screen")
	tz := fs.String("tz", "", "time zone for days and dates (server default Asia/Shanghai)")
	out := fs.String("o", "", "write the CSV export to `FILE` (- for stdout)")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usagef("--from and --to are required (e.g. --from 2026-05-01 --to 2026-06-01)")
	}
	loc := beijing
	if *tz != "" {
		l, err := time.LoadLocation(*tz)
		if err != nil {
			return usagef("--tz %q is not an IANA time zone such as Asia/Shanghai", *tz)
		}
		loc = l
	}
	f, err := parseInstantIn("--from", *from, loc)
	if err != nil {
		return err
	}
	t, err := parseInstantIn("--to", *to, loc)
	if err != nil {
		return err
	}
	if !t.After(f) {
		return usagef("--to must be after --from")
	}
	if !contains(reportGroupings, *by) {
		return usagef("--by must be one of item, screen, group, day (got %q)", *by)
	}
	q := url.Values{"from": {f.Format(time.RFC3339)}, "to": {t.Format(time.RFC3339)}, "group_by": {*by}}
	if *group != "" {
		q.Set("group", *group)
	}
	if *screen != "" {
		q.Set("screen", *screen)
	}
	if *tz != "" {
		q.Set("tz", *tz)
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	if *out != "" {
		q.Set("format", "csv")
		n, _, err := c.download(cl, "/reports/plays?"+q.Encode(), *out)
		if err != nil {
			return err
		}
		if *out != "-" {
			fmt.Fprintf(c.env.Stderr, "wrote %s (%s)\n", *out, bytesHuman(n))
		}
		return nil
	}
	var rows []struct {
		Key     string  `json:"key"`
		Label   string  `json:"label"`
		Plays   int64   `json:"plays"`
		Seconds float64 `json:"seconds"`
	}
	raw, err := cl.callInto(c.ctx, http.MethodGet, "/reports/plays?"+q.Encode(), nil, &rows)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	tb := newTable(map[string]string{"item": "ITEM", "screen": "SCREEN", "group": "GROUP", "day": "DAY"}[*by], "NAME", "PLAYS", "TIME")
	for _, r := range rows {
		tb.row(r.Key, orDash(r.Label), strconv.FormatInt(r.Plays, 10), duration(time.Duration(r.Seconds*float64(time.Second))))
	}
	tb.write(c.out)
	if len(rows) == 0 {
		c.note("no plays in that range")
	}
	return nil
}

// parseInstantIn is parseInstant with dates read in loc.
func parseInstantIn(flagName, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("%s %q: give 2026-05-01, 2026-05-01T08:00 or RFC 3339", flagName, s)
}
