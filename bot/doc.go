// Package bot is kring's platform-neutral core: what a user asked (Request,
// Action), what kring answers (Message, Form), where it lands (Where, Ref),
// what a feature may do on a platform (Poster), the command router (Mux),
// user errors, translations and the clock.
//
// A feature package (bot/poll, ...) registers its commands and action
// prefixes on a Mux and speaks only these types. An adapter (Slack,
// Mattermost, the shell) turns platform requests into Requests and Actions,
// renders Messages, and implements Poster. Neither knows the other.
package bot
