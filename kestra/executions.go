package kestra

// ExecutionsService is the part of the client that manages executions.
type ExecutionsService service
