package kestrajson_test

import (
	"encoding/json"
	"fmt"

	"github.com/kestra-go/sdk/kestra/kestrajson"
)

func ExampleObject() {
	var outputs kestrajson.Object
	_ = json.Unmarshal([]byte(`{"rowId":9007199254740993,"ratio":0.25}`), &outputs)

	id, _ := outputs["rowId"].(json.Number).Int64()
	ratio, _ := outputs["ratio"].(json.Number).Float64()
	fmt.Println(id, ratio)
	// Output: 9007199254740993 0.25
}
