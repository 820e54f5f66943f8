// Serves the reference instance over node:http on the port of BETTER_AUTH_URL (loopback only).
import http from "node:http";
import { toNodeHandler } from "better-auth/node";
import { auth, baseURL, pool } from "./auth.mjs";

const handler = toNodeHandler(auth);
const server = http.createServer((req, res) => {
  handler(req, res).catch((err) => {
    console.error("handler error", err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});

server.listen(Number(new URL(baseURL).port), "127.0.0.1", () => {
  console.log(`reference listening on ${baseURL}`);
});

function shutdown() {
  server.close(() => pool.end().finally(() => process.exit(0)));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
