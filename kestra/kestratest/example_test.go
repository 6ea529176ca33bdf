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
// end with plain net/http. Like Kestra OSS, the server wants basic auth:
// its default user is root@root.com / Root!1234.
func ExampleNewServer() {
	srv := kestratest.NewServer()
	defer srv.Close()
	post := func(path, contentType string, body string) (*http.Response, error) {
		req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", contentType)
		req.SetBasicAuth(srv.Username, srv.Password)
		return http.DefaultClient.Do(req)
	}

	flow := "id: hello\nnamespace: demo\ntasks:\n  - id: ret\n    type: io.kestra.plugin.core.debug.Return\n    format: \"hi {{ inputs.who }}\"\ninputs:\n  - id: who\n    type: STRING\n"
	resp, err := post("/api/v1/main/flows", "application/x-yaml", flow)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	var body strings.Builder
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("who", "gopher")
	_ = mw.Close()
	resp, err = post("/api/v1/main/executions/demo/hello?wait=true", mw.FormDataContentType(), body.String())
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
