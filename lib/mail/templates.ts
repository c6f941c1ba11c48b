import type { Mail } from "./send";

export function verifyEmailMail(to: string, link: string, hours: number): Mail {
  return {
    to,
    subject: "Confirm your email address for Kiln",
    text: `Hello,\n\nSomeone (hopefully you) registered a Kiln account with this address.\nConfirm it by opening this link within ${hours} hours:\n\n${link}\n\nIf this was not you, ignore this mail; no account becomes active without the link.\n`,
  };
}

export function alreadyRegisteredMail(to: string, signInLink: string, resetLink: string): Mail {
  return {
    to,
    subject: "Someone tried to register with your Kiln address",
    text: `Hello,\n\nSomeone tried to register a Kiln account with this address, but you already have one.\nSign in: ${signInLink}\nForgot your password? ${resetLink}\n\nIf this was not you, you can ignore this mail.\n`,
  };
}

export function resetPasswordMail(to: string, link: string, minutes: number): Mail {
  return {
    to,
    subject: "Reset your Kiln password",
    text: `Hello,\n\nOpen this link within ${minutes} minutes to choose a new password:\n\n${link}\n\nThe link works once. If you did not ask for this, ignore this mail: your password stays as it is.\n`,
  };
}

export function accountApprovedMail(to: string, signInLink: string): Mail {
  return {
    to,
    subject: "Your Kiln account is approved",
    text: `Hello,\n\nAn administrator approved your Kiln account. You can sign in now:\n\n${signInLink}\n`,
  };
}

function describeLeft(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 90) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

export function leaseReminderMail(to: string, p: { hosts: string[]; endsAt: Date; now: Date; link: string; capture?: { link: string; graceMinutes: number } }): Mail {
  // The staged end's offer (lib/leases/staged-end.ts): the link opens the lease with its
  // capture dialog ready; nothing is captured until the person, signed in, confirms there.
  const capture = p.capture
    ? `\nCapture the disk before it is wiped: save it as a version of one of your images, in one click here (sign in to Kiln first if asked):\n\n${p.capture.link}\n\n${
        p.capture.graceMinutes > 0
          ? `After the end you still have ${describeLeft(p.capture.graceMinutes * 60_000)} of grace to capture it (no deploys then); after that the machines are powered off and wiped.`
          : "This pool has no grace period: capture before the end."
      }\n`
    : "";
  return {
    to,
    subject: `Your Kiln lease of ${p.hosts.join(", ")} ends in ${describeLeft(p.endsAt.getTime() - p.now.getTime())}`,
    text: `Hello,\n\nYour lease of ${p.hosts.join(", ")} ends at ${p.endsAt.toISOString().replace("T", " ").slice(0, 16)} UTC (in ${describeLeft(p.endsAt.getTime() - p.now.getTime())}).\nThen the machines are released and wiped for the next person: copy off anything you need.\nExtend the lease (within your project's policy) or release it early here:\n\n${p.link}\n${capture}`,
  };
}
