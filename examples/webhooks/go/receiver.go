// Receives the gateway's webhooks and verifies their Standard Webhooks signature.
// Go standard library only: go run receiver.go
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const tolerance = 5 * time.Minute

func verify(key []byte, header http.Header, body []byte) error {
	id, timestamp := header.Get("webhook-id"), header.Get("webhook-timestamp")
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if id == "" || err != nil {
		return errors.New("missing or malformed webhook headers")
	}
	if age := time.Since(time.Unix(seconds, 0)); age > tolerance || age < -tolerance {
		return errors.New("timestamp outside the tolerance")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	expected := []byte("v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	// One signature per active secret (rotation): any may match; hmac.Equal compares in constant time.
	for _, signature := range strings.Split(header.Get("webhook-signature"), " ") {
		if hmac.Equal(expected, []byte(signature)) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

func main() {
	// The endpoint's whsec_... secret.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(os.Getenv("WEBHOOK_SECRET"), "whsec_"))
	if err != nil || len(key) == 0 {
		log.Fatal("WEBHOOK_SECRET must be the endpoint's whsec_ secret")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "9000"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20)) // the exact bytes received
		if err == nil {
			err = verify(key, r.Header, body)
		}
		if err != nil {
			log.Println("refused:", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var event struct{ ID, Event string }
		if err := json.Unmarshal(body, &event); err != nil {
			log.Println("refused: not a JSON event:", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		// Deliveries are at-least-once: de-duplicate on webhook-id (= event.ID) before acting.
		fmt.Println("verified", event.ID, event.Event)
		w.WriteHeader(http.StatusNoContent)
	})
	fmt.Println("listening on", port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
