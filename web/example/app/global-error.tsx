"use client";

// The last resort: an error in the root layout itself, so this renders its own <html>, with the
// same look inlined (globals.css is part of the layout that failed).
export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", color: "#1d2329", background: "#f7f8f9", margin: 0 }}>
        <main style={{ maxWidth: "40rem", margin: "3rem auto", padding: "0 1rem" }}>
          <div role="alert" style={{ background: "#fff", border: "1px solid #dde1e5", borderRadius: ".5rem", padding: "1.25rem" }}>
            <h1 style={{ fontSize: "1.5rem", marginTop: 0 }}>Something went wrong</h1>
            <p>The app could not load. Please try again in a moment.</p>
            {error.digest && <p style={{ color: "#5c656e" }}>Reference: {error.digest}</p>}
            <button
              type="button"
              onClick={reset}
              style={{ font: "inherit", padding: ".5rem .9rem", border: "1px solid #2457c5", borderRadius: ".35rem", background: "#2457c5", color: "#fff" }}
            >
              Try again
            </button>
          </div>
        </main>
      </body>
    </html>
  );
}
