package kestratest_test

import (
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/kestra-go/sdk/kestra/kestratest"
)

// ExampleNewServer creates a flow on an emulated Kestra and runs it to the
// end with plain net/http.
func ExampleNewServer() {
	srv := kestratest.NewServer()
	defer srv.Close()

	flow := "id: hello\nnamespace: demo\ntasks:\n  - id: ret\n    type: io.kestra.plugin.core.debug.Return\n    format: \"hi {{ inputs.who }}\"\ninputs:\n  - id: who\n    type: STRING\n"
	resp, err := http.Post(srv.URL+"/api/v1/main/flows", "application/x-yaml", strings.NewReader(flow))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	var body strings.Builder
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("who", "gopher")
	_ = mw.Close()
	resp, err = http.Post(srv.URL+"/api/v1/main/executions/demo/hello?wait=true", mw.FormDataContentType(), strings.NewReader(body.String()))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var ex struct {
		State       struct{ Current string }
		TaskRunList []struct {
			Outputs map[string]any
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&ex); err != nil {
		panic(err)
	}
	fmt.Println(ex.State.Current, ex.TaskRunList[0].Outputs["value"], srv.ExecutionCount())
	// Output: SUCCESS hi gopher 1
}
