"use client";

import { useRef, useState, type FormEvent, type ReactNode } from "react";
import { unreachable } from "@/lib/errors";

/** A result line beside a form or button: green with role="status" for success, red with role="alert" for errors. */
export type Notice = { ok: boolean; text: string } | null;

export function Message({ notice, inline }: { notice: Notice; inline?: boolean }) {
  if (!notice) return null;
  const Tag = inline ? "span" : "p";
  return (
    <Tag className={notice.ok ? "success" : "error"} role={notice.ok ? "status" : "alert"}>
      {notice.text}
    </Tag>
  );
}

/**
 * useAction runs one async action at a time: pending while it runs (a second submit is ignored,
 * not only the button disabled), and the Notice it returns shown next to where it was started.
 * A call that throws (the network failed before any answer) reads as "can't reach the service".
 */
export function useAction() {
  const [pending, setPending] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const running = useRef(false);
  async function run(action: () => Promise<Notice | void>) {
    if (running.current) return;
    running.current = true;
    setPending(true);
    setNotice(null);
    try {
      const result = await action();
      if (result !== undefined) setNotice(result);
    } catch (err) {
      console.error(err);
      setNotice({ ok: false, text: unreachable });
    } finally {
      running.current = false;
      setPending(false);
    }
  }
  return { pending, notice, setNotice, run };
}

type ButtonStyle = "primary" | "secondary" | "danger";

/**
 * ActionForm is every form of the app: onSubmit gets the form's values, the submit button says
 * pendingLabel and is disabled while it runs, and the answer appears between fields and button.
 */
export function ActionForm({
  onSubmit,
  submit,
  pendingLabel,
  kind = "primary",
  children,
  className,
  testId,
  label,
}: {
  onSubmit: (form: FormData, el: HTMLFormElement) => Promise<Notice | void>;
  submit: string;
  pendingLabel?: string;
  kind?: ButtonStyle;
  children?: ReactNode;
  className?: string;
  testId?: string;
  label?: string;
}) {
  const { pending, notice, run } = useAction();
  function handle(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const el = e.currentTarget;
    void run(() => onSubmit(new FormData(el), el));
  }
  return (
    <form onSubmit={handle} className={className} data-testid={testId} aria-label={label} aria-busy={pending}>
      {children}
      <Message notice={notice} />
      <button type="submit" disabled={pending} className={kind === "primary" ? undefined : kind}>
        {pending ? (pendingLabel ?? `${submit}…`) : submit}
      </button>
    </form>
  );
}

/** ActionButton is a button that runs one call, pending and disabled meanwhile, its answer beside it. */
export function ActionButton({
  onClick,
  children,
  pendingLabel,
  kind = "secondary",
  label,
}: {
  onClick: () => Promise<Notice | void>;
  children: ReactNode;
  pendingLabel?: string;
  kind?: ButtonStyle;
  label?: string;
}) {
  const { pending, notice, run } = useAction();
  return (
    <>
      <button type="button" className={kind === "primary" ? undefined : kind} disabled={pending} aria-label={label} onClick={() => void run(onClick)}>
        {pending ? (pendingLabel ?? "Working…") : children}
      </button>
      <Message notice={notice} inline />
    </>
  );
}

/**
 * ConfirmButton asks before a destructive call: the first click shows the question with a
 * confirming and a cancelling button in place; only the confirming one runs the call.
 */
export function ConfirmButton({
  onConfirm,
  children,
  question,
  confirm,
  label,
}: {
  onConfirm: () => Promise<Notice | void>;
  children: ReactNode;
  question: string;
  confirm: string;
  label?: string;
}) {
  const [asking, setAsking] = useState(false);
  const { pending, notice, run } = useAction();
  if (!asking) {
    return (
      <>
        <button type="button" className="danger" aria-label={label} onClick={() => setAsking(true)}>
          {children}
        </button>
        <Message notice={notice} inline />
      </>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        className="danger"
        disabled={pending}
        autoFocus
        onClick={() =>
          void run(async () => {
            const result = await onConfirm();
            setAsking(false);
            return result;
          })
        }
      >
        {pending ? "Working…" : confirm}
      </button>
      <button type="button" className="secondary" disabled={pending} onClick={() => setAsking(false)}>
        Cancel
      </button>
      <Message notice={notice} inline />
    </span>
  );
}

/** PasswordForm asks for the current password before a sensitive change. */
export function PasswordForm({
  onSubmit,
  label,
  danger,
  pendingLabel,
}: {
  onSubmit: (password: string) => Promise<Notice | void>;
  label: string;
  danger?: boolean;
  pendingLabel?: string;
}) {
  return (
    <ActionForm onSubmit={(form) => onSubmit(String(form.get("password")))} submit={label} pendingLabel={pendingLabel} kind={danger ? "danger" : "primary"}>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
    </ActionForm>
  );
}
