package audit

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WriteJSON writes records as one JSON array.
func WriteJSON(w io.Writer, recs []Record) error {
	if recs == nil {
		recs = []Record{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(recs)
}

// WriteCSV writes records as CSV: seq, time, actor, action, outcome, target,
// fields (k=v; sorted), message.
func WriteCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "time", "actor", "action", "outcome", "target", "fields", "message"})
	for _, r := range recs {
		keys := make([]string, 0, len(r.Fields))
		for k := range r.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var fields []string
		for _, k := range keys {
			fields = append(fields, k+"="+r.Fields[k])
		}
		cw.Write([]string{strconv.FormatInt(r.Seq, 10), r.At.Format(time.RFC3339Nano), r.Actor, r.Action, r.Outcome,
			r.Target, strings.Join(fields, "; "), r.Message})
	}
	cw.Flush()
	return cw.Error()
}
