// Package kestra is a Go client for the Kestra orchestration server: deploy
// flows from YAML, start executions with inputs, files and labels, follow
// them live, wait for their result, read their logs, clean up after them
// (one by one or in bulk), and manage the key-value store, namespace files
// and the scheduler's triggers.
//
//	c, err := kestra.NewFromEnv()
//	flow, err := c.Flows.Apply(ctx, source)
//	exec, err := c.Executions.Create(ctx, flow.Namespace, flow.ID, &kestra.ExecuteOptions{
//		Inputs: map[string]any{"name": "Go"},
//	})
//	exec, err = c.Executions.Wait(ctx, exec.ID)
//
// # Configuration
//
// [New] takes a [Config]; [LoadConfig] and [NewFromEnv] read it from
// KESTRA_API_URL, KESTRA_USERNAME, KESTRA_PASSWORD, KESTRA_TOKEN (which wins
// over basic authentication), KESTRA_TENANT and KESTRA_TIMEOUT, and from a
// .env file in the working directory. Credentials are sent only to the
// configured server and never appear in errors, logs or printed values.
//
// # Errors
//
// A response with a status of 400 or more is an [*APIError] carrying
// Kestra's message and, for invalid flows and inputs, its violations.
// errors.Is matches it against [ErrNotFound], [ErrInvalid], [ErrConflict],
// [ErrUnauthorized] and the other sentinels. Input that cannot be right
// (YAML that does not parse, an empty id) fails before any request. An
// execution that ends in failure is not an API error: [ExecutionsService.Wait]
// returns it with an [*ExecutionError].
//
// # Retries and deadlines
//
// Connection errors and the statuses 429, 502, 503 and 504 are retried as
// [RetryPolicy] describes; a call that may start or move something
// (executions, actions, webhooks, moves, bulk operations) is never sent
// twice once it may have reached the server. Each call that does not
// stream is bounded as a whole by [Config.Timeout]; streams and waits are
// bounded only by their context. An answer read into memory is capped at
// 64 MiB ([WithMaxResponseSize]).
//
// # Pagination
//
// Methods named All return an iter.Seq2 that fetches pages as the loop
// needs them; break stops it.
//
// # Streaming
//
// [ExecutionsService.Follow] and [LogsService.Follow] read Kestra's
// Server-Sent Events, reconnect when the connection drops, and release
// everything when the loop ends or the context is done. Frames are read by
// the package's own event-stream reader, which yields the same events as
// github.com/tmaxmax/go-sse (its tests compare the two) for a fraction of
// the cost.
//
// # Anything else
//
// [Client.API] returns the generated client of the whole Kestra API, with
// the same authentication, retries and deadlines.
package kestra
