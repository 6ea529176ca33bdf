package kestra

// FilesService is the part of the client that manages files.
type FilesService service
