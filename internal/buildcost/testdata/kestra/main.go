// Command kestra is the smallest useful program on the kestra package:
// read one execution.
package main

import (
	"context"
	"fmt"

	"github.com/kestra-go/sdk/kestra"
)

func main() {
	c, err := kestra.NewFromEnv()
	if err != nil {
		panic(err)
	}
	e, err := c.Executions.Get(context.Background(), "7a1bGmB1cjb7lCX8xmKTw1")
	fmt.Println(e, err)
}
