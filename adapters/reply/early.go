package reply

import (
	"net/http"
	"strconv"
)

// WriteEarly writes a whole response to w and sends it at once, for the
// ack of Inline, which is written while the handler still runs. The
// response says its length, so the platform has all of it now, not when
// the handler returns; and it closes the connection, so the platform does
// not send its next request down a connection whose handler is still busy.
func WriteEarly(w http.ResponseWriter, contentType string, body []byte) {
	h := w.Header()
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	_ = http.NewResponseController(w).Flush() // the client went away; nothing to do
}
