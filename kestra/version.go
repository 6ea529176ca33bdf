package kestra

// Version is the version of this SDK, sent in the default User-Agent.
const Version = "0.1.0"
