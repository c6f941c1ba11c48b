CREATE TYPE "public"."host_fact_source" AS ENUM('commission', 'deploy');--> statement-breakpoint
ALTER TYPE "public"."deployment_action" ADD VALUE 'commission';--> statement-breakpoint
ALTER TYPE "public"."deployment_origin" ADD VALUE 'system';--> statement-breakpoint
CREATE TABLE "host_fact_versions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"host_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"snapshot" jsonb NOT NULL,
	"source" "host_fact_source" NOT NULL,
	"deployment_id" uuid,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "host_fact_versions" ADD CONSTRAINT "host_fact_versions_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_fact_versions" ADD CONSTRAINT "host_fact_versions_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "host_fact_versions_host_version_key" ON "host_fact_versions" USING btree ("host_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "host_fact_versions_deployment_key" ON "host_fact_versions" USING btree ("deployment_id") WHERE "host_fact_versions"."deployment_id" is not null;