/** A result line under a form: green with role="status" for success, red with role="alert" for errors. */
export type Notice = { ok: boolean; text: string } | null;

export function Message({ notice }: { notice: Notice }) {
  if (!notice) return null;
  return (
    <p className={notice.ok ? "success" : "error"} role={notice.ok ? "status" : "alert"}>
      {notice.text}
    </p>
  );
}

/** PasswordForm asks for the current password before a sensitive change. */
export function PasswordForm({ onSubmit, label, danger }: { onSubmit: (password: string) => void; label: string; danger?: boolean }) {
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(String(new FormData(e.currentTarget).get("password")));
      }}
    >
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <button type="submit" className={danger ? "danger" : undefined}>
        {label}
      </button>
    </form>
  );
}
