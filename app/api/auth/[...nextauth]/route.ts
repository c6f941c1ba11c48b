// GET/POST /api/auth/* — Auth.js endpoints (session, csrf, callbacks)
import { handlers } from "@/lib/auth/auth";

export const { GET, POST } = handlers;
