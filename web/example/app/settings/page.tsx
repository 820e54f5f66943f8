import { socialProviders } from "@/lib/providers";
import { AccountSettings } from "./account-settings";

export default function SettingsPage() {
  return <AccountSettings providers={socialProviders()} />;
}
