"use client";

import { useParams, useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Message, type Notice } from "@/app/message";
import { authClient } from "@/lib/auth-client";

type Invitation = { organizationName: string; inviterEmail: string; role: string | null; email: string };

// The link in an invitation mail (the sidecar's ORG_INVITATION_URL, /accept-invitation/{id}).
// Middleware sends signed-out visitors to sign in first; the invitation is only shown to the
// account it was sent to.
export default function AcceptInvitation() {
  const { id } = useParams<{ id: string }>();
  const router = useRouter();
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const [message, setMessage] = useState<Notice>(null);

  useEffect(() => {
    void authClient.organization.getInvitation({ query: { id } }).then(({ data, error }) => {
      if (error) setMessage({ ok: false, text: error.message ?? "This invitation cannot be opened" });
      else setInvitation(data as Invitation);
    });
  }, [id]);

  async function answer(accept: boolean) {
    const { error } = accept
      ? await authClient.organization.acceptInvitation({ invitationId: id })
      : await authClient.organization.rejectInvitation({ invitationId: id });
    if (error) return setMessage({ ok: false, text: error.message ?? "Could not answer the invitation" });
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
            <button type="button" onClick={() => answer(true)}>
              Accept
            </button>
            <button type="button" className="secondary" onClick={() => answer(false)}>
              Decline
            </button>
          </div>
        </>
      )}
    </div>
  );
}
