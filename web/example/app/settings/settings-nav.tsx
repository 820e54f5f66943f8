"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const links = [
  ["/settings", "Account"],
  ["/settings/two-factor", "Two-factor"],
  ["/settings/passkeys", "Passkeys"],
  ["/settings/organizations", "Organizations"],
] as const;

export function SettingsNav() {
  const pathname = usePathname();
  return (
    <nav className="subnav" aria-label="Settings">
      {links.map(([href, label]) => (
        <Link key={href} href={href} aria-current={pathname === href ? "page" : undefined}>
          {label}
        </Link>
      ))}
    </nav>
  );
}
