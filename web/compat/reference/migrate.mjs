// Creates the reference's schema in DATABASE_URL with Better Auth's own migrator.
import { getMigrations } from "better-auth/db/migration";
import { auth, pool } from "./auth.mjs";

try {
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
} finally {
  await pool.end();
}
