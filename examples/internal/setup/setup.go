// Package setup gives every example its client: the Kestra server named by
// KESTRA_API_URL (with KESTRA_USERNAME/KESTRA_PASSWORD or KESTRA_TOKEN),
// or, when that variable is unset, the emulator built into this module, so
// that each example runs anywhere with no setup.
package setup

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/joho/godotenv"
	"github.com/kestra-go/sdk/kestra"
	"github.com/kestra-go/sdk/kestra/kestratest"
)

// Client returns a client and a function that releases what Client
// started. It exits the program when the configuration is invalid.
func Client() (*kestra.Client, func()) {
	_ = godotenv.Load() // a .env file may name the server, as for kestra.LoadConfig
	if os.Getenv("KESTRA_API_URL") != "" {
		c, err := kestra.NewFromEnv()
		if err != nil {
			log.Fatal(err)
		}
		return c, func() {}
	}
	// A tenth of real time: fast, yet slow enough to watch each step.
	srv := kestratest.NewServer(kestratest.WithSpeed(10))
	fmt.Fprintf(os.Stderr, "KESTRA_API_URL not set: using the built-in Kestra emulator at %s\n", srv.URL)
	return srv.Client(), srv.Close
}

// Context returns a context cancelled by Ctrl-C.
func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}
