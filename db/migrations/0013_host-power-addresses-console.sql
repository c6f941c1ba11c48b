CREATE TYPE "public"."host_address_source" AS ENUM('boot', 'agent', 'installed');--> statement-breakpoint
CREATE TYPE "public"."power_state" AS ENUM('on', 'off', 'unknown');--> statement-breakpoint
CREATE TABLE "host_addresses" (
	"host_id" uuid NOT NULL,
	"address" text NOT NULL,
	"source" "host_address_source" NOT NULL,
	"mac" text,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "host_addresses_host_id_address_source_pk" PRIMARY KEY("host_id","address","source")
);
--> statement-breakpoint
CREATE TABLE "host_power" (
	"host_id" uuid PRIMARY KEY NOT NULL,
	"state" "power_state" DEFAULT 'unknown' NOT NULL,
	"message" text DEFAULT '' NOT NULL,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployment_consoles" (
	"deployment_id" uuid PRIMARY KEY NOT NULL,
	"text" text DEFAULT '' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "host_addresses" ADD CONSTRAINT "host_addresses_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_power" ADD CONSTRAINT "host_power_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_consoles" ADD CONSTRAINT "deployment_consoles_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "host_addresses_host_seen_idx" ON "host_addresses" USING btree ("host_id","seen_at");