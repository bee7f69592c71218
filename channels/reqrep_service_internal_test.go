package channels

import "testing"

func TestPythonName(t *testing.T) {
	tests := []struct{ goName, want string }{
		{goName: "Echo", want: "echo"},
		{goName: "AddNumbers", want: "add_numbers"},
		{goName: "GetID", want: "get_id"},
		{goName: "GetId", want: "get_id"},
		{goName: "HTTPStatus", want: "http_status"},
		{goName: "ParseHTMLFast", want: "parse_html_fast"},
		{goName: "Add2Numbers", want: "add2_numbers"},
		{goName: "V2", want: "v2"},
		{goName: "ToJSON", want: "to_json"},
		{goName: "Already_Snake", want: "already_snake"},
		{goName: "X", want: "x"},
		{goName: "ÉtéChaud", want: "été_chaud"},
	}
	for _, tt := range tests {
		if got := pythonName(tt.goName); got != tt.want {
			t.Errorf("pythonName(%q) = %q, want %q", tt.goName, got, tt.want)
		}
	}
}
