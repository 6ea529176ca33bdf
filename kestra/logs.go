package kestra

// LogsService is the part of the client that manages logs.
type LogsService service
