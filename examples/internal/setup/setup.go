// Package setup gives every example its client: the Kestra server the
// environment names, read as kestra.LoadConfig reads it (KESTRA_API_URL,
// else KESTRA_URL, else KESTRA_HOST, with KESTRA_USERNAME/KESTRA_PASSWORD
// or KESTRA_TOKEN, a .env file included), or, when none of them is set,
// the emulator built into this module, so that each example runs anywhere
// with no setup.
package setup

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"

	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// Client returns a client and a function that releases what Client
// started. It exits the program when the configuration is invalid.
func Client() (*kestra.Client, func()) {
	c, done, err := client(os.Stderr)
	if err != nil {
		log.Fatal(err)
	}
	return c, done
}

// client is Client, saying on w which server it uses.
func client(w io.Writer) (*kestra.Client, func(), error) {
	if url, variable := kestra.EnvURL(); url != "" {
		c, err := kestra.NewFromEnv()
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(w, "using the Kestra server at %s (%s)\n", c.Config().URL, variable)
		return c, func() {}, nil
	}
	// A .env file with an error, or a bad KESTRA_TIMEOUT, fails here as it
	// would against a server.
	if _, err := kestra.LoadConfig(); err != nil {
		return nil, nil, err
	}
	// A tenth of real time: fast, yet slow enough to watch each step.
	srv := kestratest.NewServer(kestratest.WithSpeed(10))
	fmt.Fprintf(w, "KESTRA_API_URL not set: using the built-in Kestra emulator at %s\n", srv.URL)
	return srv.Client(), srv.Close, nil
}

// Context returns a context cancelled by Ctrl-C.
func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}
