// Package mattermost connects kring to Mattermost: slash commands arrive at
// POST /mattermost/commands, button clicks at POST /mattermost/actions and
// interactive dialog submissions at POST /mattermost/dialogs; public
// messages, updates, DMs, dialogs and files go out through the REST API v4
// as the bot account.
//
// Mattermost does not sign what it sends to an integration, so everything
// kring puts into a button's context or a dialog's state is signed with an
// HMAC (KRING_ACTION_SECRET), and a click whose context does not verify is
// refused before anything else happens. Who clicked always comes from the
// request's user_id, never from the context.
//
// Only REST API v4 calls and post, attachment and dialog shapes that
// Mattermost has shared from 5.x to today are used.
package mattermost
