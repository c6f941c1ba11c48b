import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "@/components/providers";
import { TopBar } from "@/components/layout/top-bar";
import { Toaster } from "@/components/ui/toast";
import { getCurrentUserOrNull } from "@/lib/auth/guard";
import { getEnv } from "@/lib/env";
import { isLabAccessAllowed } from "@/lib/vpn/devices";
import "./globals.css";

// Every page depends on who is signed in.
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: { default: "Kiln", template: "%s · Kiln" }, description: "Self-service bare-metal provisioning" };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const current = await getCurrentUserOrNull();
  const env = getEnv();
  const labAccess = Boolean(current) && isLabAccessAllowed(current!.user) && (env.isVpnEnabled || Boolean(env.KILN_OPENVPN_REMOTE));
  const user = current ? { name: current.user.name, email: current.user.email, role: current.user.role, labAccess } : null;
  return (
    <html lang="en">
      <body>
        <Providers>
          <TopBar user={user} />
          <main>{children}</main>
          <Toaster />
        </Providers>
      </body>
    </html>
  );
}
