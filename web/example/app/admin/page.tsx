"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { Message, type Notice } from "@/app/message";
import { authClient, isAdmin } from "@/lib/auth-client";
import type { User } from "@authsidecar/web";

const pageSize = 5;

// The admin console: users with search and paging, ban/unban with a reason, roles, sessions and
// impersonation. Only admins see it; the sidecar refuses every call from anyone else anyway.
export default function AdminPage() {
  const { data, isPending } = authClient.useSession();
  if (isPending) return <p className="muted">Loading…</p>;
  if (!data || !isAdmin(data.user)) {
    return (
      <p className="error" role="alert">
        Admins only.
      </p>
    );
  }
  return <Users me={data.user.id} />;
}

function Users({ me }: { me: string }) {
  const router = useRouter();
  const [search, setSearch] = useState("");
  const [page, setPage] = useState(0);
  // The page a list was loaded for travels with it, so the pager never labels an older list.
  const [list, setList] = useState<{ users: User[]; total: number; page: number } | null>(null);
  const [notice, setNotice] = useState<Notice>(null);

  const load = useCallback(async () => {
    const res = await authClient.admin.listUsers({
      query: { searchValue: search || undefined, searchField: "email", searchOperator: "contains", sortBy: "email", limit: pageSize, offset: page * pageSize },
    });
    if (res.error) setNotice({ ok: false, text: res.error.message ?? "Could not list users" });
    else setList({ users: res.data.users, total: res.data.total, page });
  }, [search, page]);

  useEffect(() => {
    void load();
  }, [load]);

  // act runs one admin call, then says how it went and reloads the list.
  async function act(done: string, call: () => Promise<{ error: { message?: string } | null }>) {
    const res = await call();
    setNotice(res.error ? { ok: false, text: res.error.message ?? "Failed" } : { ok: true, text: done });
    await load();
  }

  function ban(u: User) {
    const reason = window.prompt(`Why ban ${u.email}?`, "");
    if (reason === null) return;
    void act(`Banned ${u.email}.`, () => authClient.admin.banUser({ userId: u.id, ...(reason ? { banReason: reason } : {}) }));
  }

  async function impersonate(u: User) {
    const res = await authClient.admin.impersonateUser({ userId: u.id });
    if (res.error) return setNotice({ ok: false, text: res.error.message ?? "Failed" });
    router.push("/dashboard");
    router.refresh();
  }

  const pages = list ? Math.max(1, Math.ceil(list.total / pageSize)) : 1;
  return (
    <>
      <h1>Users</h1>
      <div className="card">
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            setPage(0);
            setSearch(String(new FormData(e.currentTarget).get("search") ?? ""));
          }}
        >
          <label>
            Search by email
            <input name="search" type="search" defaultValue={search} />
          </label>
          <button type="submit">Search</button>
        </form>
        <Message notice={notice} />
        {!list ? (
          <p className="muted">Loading…</p>
        ) : (
          <>
            <div className="table-wrap" role="region" aria-label="Users" tabIndex={0}>
            <table data-testid="users">
              <thead>
                <tr>
                  <th>User</th>
                  <th>Role</th>
                  <th>Status</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.users.map((u) => (
                  <tr key={u.id} data-email={u.email}>
                    <td>
                      {u.name}
                      <br />
                      <span className="mono">{u.email}</span>
                    </td>
                    <td>
                      <select
                        aria-label={`Role of ${u.email}`}
                        value={u.role ?? "user"}
                        disabled={u.id === me}
                        onChange={(e) => void act(`${u.email} is now ${e.target.value}.`, () => authClient.admin.setRole({ userId: u.id, role: e.target.value }))}
                      >
                        <option value="user">user</option>
                        <option value="admin">admin</option>
                      </select>
                    </td>
                    <td>{u.banned ? `banned: ${u.banReason ?? ""}` : "active"}</td>
                    <td className="row">
                      {u.id !== me &&
                        (u.banned ? (
                          <button type="button" className="secondary" onClick={() => void act(`Unbanned ${u.email}.`, () => authClient.admin.unbanUser({ userId: u.id }))}>
                            Unban
                          </button>
                        ) : (
                          <button type="button" className="danger" onClick={() => ban(u)}>
                            Ban
                          </button>
                        ))}
                      <button type="button" className="secondary" onClick={() => void act(`Signed ${u.email} out everywhere.`, () => authClient.admin.revokeUserSessions({ userId: u.id }))}>
                        Revoke sessions
                      </button>
                      {u.id !== me && !u.banned && (
                        <button type="button" className="secondary" onClick={() => void impersonate(u)}>
                          Impersonate
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            </div>
            <div className="pager">
              <button type="button" className="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
                Previous
              </button>
              <span data-testid="page">
                Page {list.page + 1} of {pages} ({list.total} users)
              </span>
              <button type="button" className="secondary" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
                Next
              </button>
            </div>
          </>
        )}
      </div>
    </>
  );
}
