package emulator

// WithPlugins declares plugin types as installed, so that flows may use
// them: a type ("io.kestra.plugin.scripts.shell.Commands") or, ending with
// a dot, every type under a package ("io.kestra.plugin.scripts."). Like a
// Kestra server, the emulator knows its core types (io.kestra.plugin.core
// and their aliases, per version) and refuses any other type with 422
// "Invalid type" unless its plugin is installed. A plugin task runs as a
// no-op that succeeds.
func WithPlugins(types ...string) Option {
	return func(c *config) { c.plugins = append(c.plugins, types...) }
}
