import { getEnv } from "../env";

export const VERIFY_LINK_HOURS = 48;
export const RESET_LINK_MINUTES = 60;
export const SETUP_LINK_HOURS = 24;

export function absoluteUrl(path: string): string {
  return `${getEnv().baseUrl}${path}`;
}
