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
//	exec, err = c.Executions.Wait(ctx, exec.ID, nil)
//
// # Services
//
// A [Client] holds one service per kind of resource:
//
//   - [Client.Flows] ([FlowsService]): Create, Update, Apply, Get, Delete,
//     Validate, All (search), Revisions, Sync (a directory of flows, see
//     [LoadFlows]); [ParseFlow] reads a source without a request.
//   - [Client.Executions] ([ExecutionsService]): Create (with inputs, see
//     [ExecuteOptions] and [InputsOf]), Run, Get, Follow, Wait, Kill,
//     Restart, Resume, Replay, Delete, All (search), the bulk DeleteByQuery,
//     DeleteByIDs, KillByQuery and KillByIDs, DownloadFile.
//   - [Client.Logs] ([LogsService]): List, Follow, Download, Delete.
//   - [Client.KV] ([KVService]): Set, Get, GetInto, Delete, All.
//   - [Client.Files] ([FilesService]), namespace files: Upload, Download,
//     List, Stat, Move, Delete, Export.
//   - [Client.Triggers] ([TriggersService]): List, Get, SetDisabled,
//     Unlock, Restart.
//
// The models they return are [Flow], [Execution], [TaskRun], [LogEntry] and
// [State]; their docs name the fields programs read.
//
// # Searches and options
//
// Every search speaks one vocabulary: its options struct (such as
// [ExecutionSearchOptions]) embeds [ListOptions] (Page, Size); List returns
// one [Page] (Items, Total) and All iterates over every item, fetching
// pages of [DefaultPageSize] as the loop needs them. Optional settings are
// an options struct passed by pointer, nil for the defaults, and a zero
// field means Kestra's default. Lists of models are returned as []*T.
// Revisions are int in every option; the models, generated from Kestra's
// API, carry them as int32.
//
// # Configuration
//
// [New] takes a [Config]; [LoadConfig] and [NewFromEnv] read it from the
// environment and from a .env file in the working directory: the URL from
// KESTRA_API_URL, else KESTRA_URL, else KESTRA_HOST (a trailing /api/v1 is
// dropped); basic authentication from KESTRA_USERNAME (else KESTRA_USER)
// and KESTRA_PASSWORD (else KESTRA_PASS); a bearer token, which wins over
// them, from KESTRA_TOKEN (else KESTRA_API_TOKEN); KESTRA_TENANT (else
// KESTRA_TENANT_ID) and KESTRA_TIMEOUT. [EnvURL] tells whether the
// environment names a server, for programs that fall back to the emulator
// of package kestratest. Credentials are sent only to the configured
// server and never appear in errors, logs or printed values.
//
// # Errors
//
// A response with a status of 400 or more is an [*APIError] carrying
// Kestra's message and, for invalid flows and inputs, its violations.
// errors.Is matches it against [ErrNotFound], [ErrInvalid], [ErrConflict],
// [ErrUnauthorized] and the other sentinels. Input that cannot be right
// (YAML that does not parse, an empty id) fails before any request; a flow
// source refused so is a [*FlowSourceError], which matches [ErrInvalid]
// too, so that one check covers a flow refused here or by Kestra. An
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
// everything when the loop ends or the context is done. They, and
// [ExecutionsService.Wait] and [ExecutionsService.Run], take one
// [StreamOptions]. Frames are read with github.com/tmaxmax/go-sse.
//
// # Anything else
//
// [Client.API] returns the generated client of the whole Kestra API, with
// the same authentication, retries and deadlines.
package kestra
