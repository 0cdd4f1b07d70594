// Package people owns the secrets of the people who sign in: the password
// policy, how passwords are hashed and checked (argon2id), and time-based
// one-time codes (RFC 6238) for the second factor. It stores nothing; the
// store keeps the resulting strings on the user record.
package people
