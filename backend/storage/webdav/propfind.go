package webdav

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// PROPFIND is made here rather than by go-webdav's Stat and ReadDir: those
// also ask for getetag and fail on the weak ETags (W/"…") Apache gives files
// written within the last second.

// entry is a file or folder a PROPFIND described.
type entry struct {
	Path     string // the server path, unescaped
	IsDir    bool
	Size     int64
	Modified time.Time
}

const propfindBody = `<?xml version="1.0" encoding="utf-8"?>` +
	`<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getlastmodified/></D:prop></D:propfind>`

// propfind describes the resource at the server path p (depth "0") or it
// and its members (depth "1").
func (w *WebDAV) propfind(ctx context.Context, p, depth string) ([]entry, error) {
	u := *w.base
	u.Path, u.RawPath = p, ""
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", u.String(), strings.NewReader(propfindBody))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Depth", depth)
	req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	resp, err := w.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		return nil, fmt.Errorf("PROPFIND answered %s, not 207 Multi-Status: the address is not a WebDAV folder", resp.Status)
	}
	return parseMultistatus(resp.Body)
}

func parseMultistatus(r io.Reader) ([]entry, error) {
	var ms struct {
		Responses []struct {
			Href      string `xml:"DAV: href"`
			Propstats []struct {
				Status string `xml:"DAV: status"`
				Prop   struct {
					ResourceType struct {
						Collection *struct{} `xml:"DAV: collection"`
					} `xml:"DAV: resourcetype"`
					Length   string `xml:"DAV: getcontentlength"`
					Modified string `xml:"DAV: getlastmodified"`
				} `xml:"DAV: prop"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.NewDecoder(r).Decode(&ms); err != nil {
		return nil, fmt.Errorf("unreadable PROPFIND answer: %w", err)
	}
	out := make([]entry, 0, len(ms.Responses))
	for _, resp := range ms.Responses {
		h, err := url.Parse(strings.TrimSpace(resp.Href))
		if err != nil {
			return nil, fmt.Errorf("unreadable PROPFIND answer: href %q: %w", resp.Href, err)
		}
		e := entry{Path: h.Path}
		for _, ps := range resp.Propstats {
			if !strings.Contains(ps.Status, " 200") {
				continue
			}
			if ps.Prop.ResourceType.Collection != nil {
				e.IsDir = true
			}
			if n, err := parseInt(ps.Prop.Length); err == nil {
				e.Size = n
			}
			if t, err := http.ParseTime(strings.TrimSpace(ps.Prop.Modified)); err == nil {
				e.Modified = t
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func parseInt(s string) (int64, error) {
	var n int64
	_, err := fmt.Sscan(strings.TrimSpace(s), &n)
	return n, err
}
