// Sends one signed conversion postback to the gateway. Go standard library only: go run postback.go
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

type Conversion struct {
	ExternalID string `json:"externalId"`
	EventType  string `json:"eventType"`
	GrossMinor int64  `json:"grossMinor"`
	Currency   string `json:"currency"`
}

func sendPostback(gatewayURL, surfaceID, secret string, conversion Conversion) (int, string, error) {
	body, err := json.Marshal(conversion) // sign exactly the bytes you send
	if err != nil {
		return 0, "", err
	}
	timestamp := strconv.FormatInt(time.Now().UnixMilli(), 10) // Unix milliseconds
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	signature := hex.EncodeToString(mac.Sum(nil))

	req, err := http.NewRequest(http.MethodPost, gatewayURL+"/v1/conversions", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("x-ea-surface", surfaceID)
	req.Header.Set("x-ea-timestamp", timestamp)
	req.Header.Set("x-ea-signature", signature)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer), err
}

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func main() {
	secret := os.Getenv("SURFACE_SECRET")
	if secret == "" {
		fmt.Fprintln(os.Stderr, "SURFACE_SECRET is required")
		os.Exit(2)
	}
	status, answer, err := sendPostback(env("GATEWAY_URL", "http://localhost:8080"), env("SURFACE_ID", "demo"), secret, Conversion{
		ExternalID: env("EXTERNAL_ID", fmt.Sprintf("order-%d", time.Now().UnixMilli())), // your order id
		EventType:  "sale",
		GrossMinor: 4999,
		Currency:   "USD",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "postback failed:", err)
		os.Exit(1)
	}
	fmt.Println(status, answer)
	if status < 200 || status > 299 {
		os.Exit(1)
	}
}
