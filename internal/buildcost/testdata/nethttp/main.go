// Command nethttp is the baseline: one execution read with net/http and
// encoding/json, no SDK.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
)

func main() {
	resp, err := http.Get("http://localhost:8080/api/v1/main/executions/7a1bGmB1cjb7lCX8xmKTw1")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var e map[string]any
	fmt.Println(json.NewDecoder(resp.Body).Decode(&e), e)
}
