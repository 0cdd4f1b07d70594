package server

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestNormalizeOneRule: every numeric setting follows the same rule — zero
// takes the default, negative is refused naming the setting — checked by
// walking Config's fields, so a field added later without a rule fails
// here rather than meaning "default" in one layer and "invalid" in another.
func TestNormalizeOneRule(t *testing.T) {
	// Fields with a rule of their own, tested below.
	special := map[string]bool{"DiskLowPercent": true, "BackupEvery": true}
	zero, err := Config{DataDir: t.TempDir()}.normalize()
	if err != nil {
		t.Fatalf("a zero config: %v", err)
	}
	zv := reflect.ValueOf(zero)
	ct := zv.Type()
	for i := range ct.NumField() {
		f := ct.Field(i)
		k := f.Type.Kind()
		if k != reflect.Int && k != reflect.Int64 || special[f.Name] {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			if zv.Field(i).Int() <= 0 {
				t.Errorf("zero %s stays %d after normalize; want its default", f.Name, zv.Field(i).Int())
			}
			neg := Config{DataDir: t.TempDir()}
			reflect.ValueOf(&neg).Elem().Field(i).SetInt(-1)
			_, err := neg.normalize()
			if err == nil {
				t.Fatalf("%s = -1 accepted", f.Name)
			}
			// The message names the setting in words ("plays burst is -1").
			if !strings.Contains(err.Error(), "is -1") {
				t.Errorf("%s = -1: %v, want the value named", f.Name, err)
			}
		})
	}
	if zero.Addr != DefaultAddr || zero.Logger == nil || zero.Now == nil {
		t.Errorf("zero config: addr %q, logger %v, clock %v", zero.Addr, zero.Logger, zero.Now != nil)
	}
	// Set values are kept as they are.
	set, err := Config{DataDir: "d", OfflineAfter: 3 * time.Minute, PlaysBurst: 9}.normalize()
	if err != nil || set.OfflineAfter != 3*time.Minute || set.PlaysBurst != 9 {
		t.Errorf("set values: %v %v %v", err, set.OfflineAfter, set.PlaysBurst)
	}
}

func TestNormalizeSpecialRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" = accepted
	}{
		{"no data dir", Config{}, "data dir is required"},
		{"disk percent off", Config{DiskLowPercent: -1}, ""},
		{"disk percent 100", Config{DiskLowPercent: 100}, "disk low percent is 100"},
		{"backups off", Config{}, ""},
		{"backups on", Config{BackupDir: "b", BackupEvery: time.Hour}, ""},
		{"backup dir alone", Config{BackupDir: "b"}, "need both"},
		{"backup interval alone", Config{BackupEvery: time.Hour}, "need both"},
		{"negative backup interval", Config{BackupDir: "b", BackupEvery: -time.Hour}, "backup interval is -1h0m0s"},
		{"retry max below base", Config{WebhookRetryBase: time.Minute, WebhookRetryMax: time.Second}, "below webhook retry base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "no data dir" {
				tc.cfg.DataDir = "d"
			}
			got, err := tc.cfg.normalize()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if tc.name == "disk percent off" && got.DiskLowPercent != -1 {
				t.Errorf("disk percent off became %g", got.DiskLowPercent)
			}
		})
	}
	if got, _ := (Config{DataDir: "d"}).normalize(); got.DiskLowPercent != DefaultDiskLowPercent || got.BackupEvery != 0 {
		t.Errorf("defaults: disk percent %g, backup every %s", got.DiskLowPercent, got.BackupEvery)
	}
}
