package kestra

// FlowsService is the part of the client that manages flows.
type FlowsService service
