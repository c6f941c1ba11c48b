CREATE TYPE "public"."deployment_origin" AS ENUM('holder', 'release');--> statement-breakpoint
CREATE TYPE "public"."deployment_step_state" AS ENUM('pending', 'running', 'done', 'failed', 'skipped', 'cancelled');--> statement-breakpoint
CREATE TABLE "deployment_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"host_id" uuid NOT NULL,
	"deployment_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployment_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"deployment_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"source" text NOT NULL,
	"line" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployment_steps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"deployment_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"name" text NOT NULL,
	"state" "deployment_step_state" DEFAULT 'pending' NOT NULL,
	"timeout_seconds" integer,
	"attempts" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"timeout_at" timestamp with time zone,
	"message" text,
	"failure_reason" text
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "origin" "deployment_origin" DEFAULT 'holder' NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "options" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "retry_of_id" uuid;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "bytes_written" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "total_bytes" bigint;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "rate_bytes_per_second" bigint;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "progress_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deployment_events" ADD CONSTRAINT "deployment_events_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_events" ADD CONSTRAINT "deployment_events_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_logs" ADD CONSTRAINT "deployment_logs_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_steps" ADD CONSTRAINT "deployment_steps_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployment_events_host_idx" ON "deployment_events" USING btree ("host_id","id");--> statement-breakpoint
CREATE INDEX "deployment_logs_deployment_idx" ON "deployment_logs" USING btree ("deployment_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "deployment_steps_position_key" ON "deployment_steps" USING btree ("deployment_id","position");--> statement-breakpoint
CREATE INDEX "deployment_steps_due_idx" ON "deployment_steps" USING btree ("timeout_at") WHERE "deployment_steps"."state" = 'running';