// Package notify delivers PgSafe's notifications: a failed backup, a database
// that went down or came back, a storage that is nearly full.
//
// It owns three things:
//
//   - Event, what happened, with the event kinds as constants (EventBackupFailed …).
//   - Notifier, one channel built from a stored store.NotifierConfig by New:
//     email (SMTP), Slack, Discord, Microsoft Teams, Telegram, a generic
//     webhook, and desktop notifications (freedesktop Notifications over the
//     D-Bus session bus). Each notifier has an event filter (its Events list;
//     empty means DefaultEvents).
//   - Dispatcher, which queues events without ever blocking the caller and
//     delivers them in the background to every notifier whose filter matches,
//     retrying failures with backoff and reporting each outcome through a
//     callback (for the audit log). Test sends one test event synchronously.
//
// Secrets (SMTP passwords, bot tokens, webhook URLs, secret headers) come in
// as store.Secret and are revealed only to build the request. Errors a
// notifier returns, and what the Dispatcher logs, never contain them: URLs
// are left out of transport errors and every secret value is replaced by
// "[redacted]" in the final message. Event texts are scrubbed of passwords
// in connection strings before they are sent. docs/NOTIFY.md describes the
// kinds, their settings, the events and the retry policy.
package notify
