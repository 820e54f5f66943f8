// Decision time of authMiddleware per verify mode: the same compiled code Next.js runs in its Edge
// runtime (web-standard APIs only), called here in Node against a real sidecar on a fresh database
// (JWT_ENABLED, COOKIE_CACHE_MAX_AGE=300). "jwt" and "cookie-cache" decide locally once the first
// answer is held; "sidecar" pays the get-session round trip (loopback TCP, one indexed query).
// Run from web/ after `npm run build`: node bench/middleware.mjs [decisions per mode, default 2000]
import { authMiddleware } from "../dist/next.js";
import { jwtCookieName } from "../dist/edge.js";
import { cookieFetch, secret, startSidecar } from "../test/harness.js";

const n = Number(process.argv[2] ?? 2000);
const sidecar = await startSidecar({ env: { COOKIE_CACHE_MAX_AGE: "300", JWT_ENABLED: "true" } });
try {
  const jar = cookieFetch(sidecar.appOrigin);
  const res = await jar(`${sidecar.apiURL}/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: `bench-${Date.now()}@example.com`, password: "password1234", name: "Bench" }),
  });
  if (!res.ok) throw new Error(`sign-up: ${res.status}`);
  const options = { protect: ["/dashboard"], sidecarURL: sidecar.url, issuer: sidecar.url, secret };
  const rows = [];
  for (const mode of ["sidecar", "cookie-cache", "jwt"]) {
    const mw = authMiddleware({ ...options, verify: mode });
    let cookie = jar.cookieHeader();
    const visit = () => mw(new Request("http://app.test/dashboard", { headers: { cookie } }));
    const first = await visit();
    const held = first.headers.getSetCookie().find((c) => c.startsWith(`${jwtCookieName}=`));
    if (held) cookie += `; ${held.split(";")[0]}`;
    for (let i = 0; i < 200; i++) await visit(); // warm up (JIT, keys imported, connections open)
    const times = [];
    const seen = new Set();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await visit();
      times.push(performance.now() - t0);
      seen.add(r.headers.get("x-authsidecar-decision"));
    }
    times.sort((a, b) => a - b);
    const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(3);
    rows.push(`| \`${mode}\` | ${[...seen].join(", ")} | ${at(0.5)} | ${at(0.99)} |`);
  }
  console.log(`${n} decisions per mode, Node ${process.version}\n`);
  console.log("| verify | decided by | median ms | p99 ms |\n|---|---|---|---|\n" + rows.join("\n"));
} finally {
  await sidecar.stop();
}
