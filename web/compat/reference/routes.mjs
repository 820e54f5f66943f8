// Prints the reference's HTTP routes as JSON, [{method, path, plugin}], read from its router's
// endpoints the way better-call's router registers them (SERVER_ONLY endpoints have no route).
// Needs no database: the pool connects only when a request comes.
process.env.BETTER_AUTH_URL ||= "http://127.0.0.1:1";
process.env.BETTER_AUTH_SECRET ||= "inventory-only-secret-0123456789-abcdef";
process.env.DATABASE_URL ||= "postgres://inventory.invalid/none";
const { auth, pool } = await import("./auth.mjs");

const owner = new Map(); // endpoint path -> plugin id
for (const plugin of auth.options.plugins) {
  for (const endpoint of Object.values(plugin.endpoints || {})) owner.set(endpoint.path, plugin.id);
}
const routes = [];
for (const endpoint of Object.values(auth.api)) {
  if (!endpoint?.path || !endpoint.options || endpoint.options.metadata?.SERVER_ONLY) continue;
  const methods = [endpoint.options.method].flat();
  for (const method of methods) routes.push({ method, path: endpoint.path, plugin: owner.get(endpoint.path) || "core" });
}
routes.sort((a, b) => a.plugin.localeCompare(b.plugin) || a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
console.log(JSON.stringify(routes, null, 1));
await pool.end();
