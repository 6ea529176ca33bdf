// Command gen reads one execution with the generated client only.
package main

import (
	"context"
	"fmt"

	"github.com/kestra-go/sdk/gen"
)

func main() {
	c, err := gen.NewClientWithResponses("http://localhost:8080")
	if err != nil {
		panic(err)
	}
	r, err := c.GetExecutionWithResponse(context.Background(), "main", "7a1bGmB1cjb7lCX8xmKTw1")
	fmt.Println(r, err)
}
