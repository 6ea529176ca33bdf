package kestra

// KVService is the part of the client that manages kv.
type KVService service
