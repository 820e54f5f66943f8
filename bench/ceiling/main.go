// Command ceiling answers every request with a fixed 200 and a small JSON body: the most a Go
// net/http server reaches on this machine, which bench/run.sh measures beside get-session so the
// cookie-cache figure has a practical ceiling to be compared with. It is not part of authsidecar.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	body := []byte(`{"ok":true}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe(os.Args[1], h))
}
