package agent

import "encoding/json"

// APIVersion is the local API's version: the first element of every path
// (/v1/…). A change that an older face cannot follow gets a new version;
// a face that finds another version says so and asks for a restart of PgSafe.
const APIVersion = 1

// Hello is GET /v1/hello: who answers on the endpoint.
type Hello struct {
	API     int    `json:"api"`
	Version string `json:"version"` // the agent's build (buildinfo)
	Commit  string `json:"commit,omitempty"`
	PID     int    `json:"pid"`
	Home    string `json:"home"` // the settings directory it serves
	Tray    bool   `json:"tray"` // it shows a tray icon
}

// Event is one line of GET /v1/events: an event the agent's services emit
// (the names and data the window knows: "engine:event", "core:status", …).
type Event struct {
	Name string          `json:"event"`
	Data json.RawMessage `json:"data,omitempty"`
}

// callResult is the body of POST /v1/call/{Service.Method}: the method's
// result, or the error it returned (its message, for the user).
type callResult struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *string         `json:"error,omitempty"`
}
