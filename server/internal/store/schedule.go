package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// CreateSchedule stores sc under a new id after checking its playlist and
// the groups and screens its target names exist.
func (s *Store) CreateSchedule(sc playlists.Schedule) (playlists.Schedule, error) {
	return update(s, func(tx *bolt.Tx) (playlists.Schedule, error) { return s.createSchedule(tx, "", sc) })
}

// UpdateSchedule replaces schedule id with sc.
func (s *Store) UpdateSchedule(id string, sc playlists.Schedule) (playlists.Schedule, error) {
	return update(s, func(tx *bolt.Tx) (playlists.Schedule, error) { return s.updateSchedule(tx, id, sc) })
}

func (s *Store) createSchedule(tx *bolt.Tx, id string, sc playlists.Schedule) (playlists.Schedule, error) {
	if err := sc.Validate(); err != nil {
		return playlists.Schedule{}, err
	}
	if err := checkScheduleRefs(tx, sc); err != nil {
		return playlists.Schedule{}, err
	}
	b := tx.Bucket(bucketSchedules)
	var err error
	if sc.ID, err = newOrFreshID(b, "schedule", "sch", id); err != nil {
		return playlists.Schedule{}, err
	}
	sc.CreatedAt = s.now().UTC()
	sc.UpdatedAt = sc.CreatedAt
	noteCatalog(tx)
	return sc, putJSON(b, sc.ID, sc)
}

func (s *Store) updateSchedule(tx *bolt.Tx, id string, sc playlists.Schedule) (playlists.Schedule, error) {
	if err := sc.Validate(); err != nil {
		return playlists.Schedule{}, err
	}
	b := tx.Bucket(bucketSchedules)
	var old playlists.Schedule
	ok, err := getJSON(b, id, &old)
	if err != nil {
		return playlists.Schedule{}, err
	}
	if !ok {
		return playlists.Schedule{}, NotFoundError{Kind: "schedule", ID: id}
	}
	if err := checkScheduleRefs(tx, sc); err != nil {
		return playlists.Schedule{}, err
	}
	sc.ID = id
	sc.CreatedAt = old.CreatedAt
	sc.UpdatedAt = s.now().UTC()
	noteCatalog(tx)
	return sc, putJSON(b, id, sc)
}

func checkScheduleRefs(tx *bolt.Tx, sc playlists.Schedule) error {
	if !exists(tx, bucketPlaylists, sc.Playlist) {
		return playlists.FieldError{Field: "playlist", Problem: fmt.Sprintf("playlist %q does not exist", sc.Playlist)}
	}
	for i, g := range sc.Target.Groups {
		if !exists(tx, bucketGroups, g) {
			return playlists.FieldError{Field: fmt.Sprintf("target.groups[%d]", i), Problem: fmt.Sprintf("group %q does not exist", g)}
		}
	}
	for i, id := range sc.Target.Screens {
		if !exists(tx, bucketScreens, id) {
			return playlists.FieldError{Field: fmt.Sprintf("target.screens[%d]", i), Problem: fmt.Sprintf("screen %q does not exist", id)}
		}
	}
	for i, tag := range sc.Target.Tags {
		if err := checkTag(tag); err != nil {
			return playlists.FieldError{Field: fmt.Sprintf("target.tags[%d]", i), Problem: err.Error()}
		}
	}
	return nil
}

// GetSchedule returns schedule id.
func (s *Store) GetSchedule(id string) (playlists.Schedule, error) {
	return get[playlists.Schedule](s, bucketSchedules, "schedule", id)
}

// ListSchedules returns every schedule, ordered by id.
func (s *Store) ListSchedules() ([]playlists.Schedule, error) {
	return list[playlists.Schedule](s, bucketSchedules)
}

// DeleteSchedule removes schedule id; nothing references schedules.
func (s *Store) DeleteSchedule(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return deleteSchedule(tx, id) })
}

func deleteSchedule(tx *bolt.Tx, id string) error {
	if !exists(tx, bucketSchedules, id) {
		return NotFoundError{Kind: "schedule", ID: id}
	}
	noteCatalog(tx)
	return tx.Bucket(bucketSchedules).Delete([]byte(id))
}

// schedulesTargeting lists labels of schedules whose target names id in
// the list pick selects.
func schedulesTargeting(tx *bolt.Tx, id string, pick func(playlists.Target) []string) ([]string, error) {
	scs, err := listJSON[playlists.Schedule](tx, bucketSchedules)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, sc := range scs {
		for _, x := range pick(sc.Target) {
			if x == id {
				users = append(users, scheduleLabel(sc))
				break
			}
		}
	}
	return users, nil
}
