"use client";

import { useParams, useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { ActionButton, Message, type Notice } from "@/app/message";
import { authClient } from "@/lib/auth-client";
import { errorText } from "@/lib/errors";

type Invitation = { organizationName: string; inviterEmail: string; role: string | null; email: string };

// The link in an invitation mail (the sidecar's ORG_INVITATION_URL, /accept-invitation/{id}).
// Middleware sends signed-out visitors to sign in first, with this page as callbackURL, which
// sign-up and email confirmation carry along; the invitation is only shown to the account it
// was sent to.
export default function AcceptInvitation() {
  const { id } = useParams<{ id: string }>();
  const router = useRouter();
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const [message, setMessage] = useState<Notice>(null);

  useEffect(() => {
    void authClient.organization.getInvitation({ query: { id } }).then(({ data, error }) => {
      if (!error) return setInvitation(data as unknown as Invitation);
      setMessage({
        ok: false,
        text:
          error.status === 403
            ? "This invitation was sent to another address, or your email is not confirmed yet. Sign in with the invited address and confirm it first."
            : errorText(error, "This invitation cannot be opened"),
      });
    });
  }, [id]);

  async function answer(accept: boolean): Promise<Notice | void> {
    const { error } = accept
      ? await authClient.organization.acceptInvitation({ invitationId: id })
      : await authClient.organization.rejectInvitation({ invitationId: id });
    if (error) return { ok: false, text: errorText(error, "Could not answer the invitation") };
    setInvitation(null);
    if (accept) router.push("/settings/organizations"); // accepting made it the active organization
    else setMessage({ ok: true, text: "Invitation declined." });
  }

  return (
    <div className="card">
      <h1>Invitation</h1>
      <Message notice={message} />
      {invitation && (
        <>
          <p data-testid="invitation">
            {invitation.inviterEmail} invites you to join <strong>{invitation.organizationName}</strong> as {invitation.role}.
          </p>
          <div className="row">
            <ActionButton kind="primary" pendingLabel="Joining…" onClick={() => answer(true)}>
              Accept
            </ActionButton>
            <ActionButton pendingLabel="Declining…" onClick={() => answer(false)}>
              Decline
            </ActionButton>
          </div>
        </>
      )}
    </div>
  );
}
