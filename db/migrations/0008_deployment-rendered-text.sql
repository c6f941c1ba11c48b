ALTER TABLE "deployments" ADD COLUMN "rendered_system" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "rendered_unattended" text;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "token_placeholder" text;