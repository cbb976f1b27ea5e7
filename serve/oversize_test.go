package serve

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/keras"
)

// TestOversizeBodyWrittenFirst: a client that writes its whole body before
// reading the answer (Python's urllib does) must get the 413 and its JSON
// error, not a reset connection, with and without a Content-Length.
func TestOversizeBodyWrittenFirst(t *testing.T) {
	_, hs := newTestServer(t, Config{MaxBodyBytes: 4096}, map[string]*keras.Model{"m": loadGolden(t, "emb_lstm_mask_post_last", 1, 1).m})
	addr := strings.TrimPrefix(hs.URL, "http://")
	body := `{"inputs":[{"name":"input_layer","shape":[1,3],"datatype":"INT32","data":[1` + strings.Repeat(",1", 12<<20) + `]}]}`
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			w := bufio.NewWriter(c)
			fmt.Fprintf(w, "POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
			if chunked {
				fmt.Fprintf(w, "Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
			} else {
				fmt.Fprintf(w, "Content-Length: %d\r\n\r\n%s", len(body), body)
			}
			if err := w.Flush(); err != nil {
				t.Fatalf("writing the body: %v", err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"error"`) {
				t.Fatalf("got %d %s, want 413 with a JSON error", resp.StatusCode, b)
			}
		})
	}
}
