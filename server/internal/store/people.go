package store

import bolt "go.etcd.io/bbolt"

var (
	bucketUsers       = []byte("users")         // user id → User
	bucketUsersByName = []byte("users_by_name") // lower-case username → user id
	bucketSessions    = []byte("sessions")      // session id hash → Session
	bucketAPITokens   = []byte("api_tokens")    // token hash → APIToken
	bucketChangeSets  = []byte("changesets")    // change set id → ChangeSet
)

func migratePeople(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketUsers, bucketUsersByName, bucketSessions, bucketAPITokens, bucketChangeSets} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}
