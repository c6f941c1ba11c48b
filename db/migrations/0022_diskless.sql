CREATE TABLE "diskless_roots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"host_id" uuid NOT NULL,
	"lease_id" uuid,
	"project_id" uuid,
	"deployment_id" uuid,
	"image_id" uuid NOT NULL,
	"image_version" integer NOT NULL,
	"base_path" text NOT NULL,
	"overlay_path" text NOT NULL,
	"export_name" text NOT NULL,
	"bind_address" text NOT NULL,
	"port" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reset_at" timestamp with time zone,
	"released_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "diskless_roots" ADD CONSTRAINT "diskless_roots_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "diskless_roots" ADD CONSTRAINT "diskless_roots_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "diskless_roots_live_host_key" ON "diskless_roots" USING btree ("host_id") WHERE "diskless_roots"."released_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "diskless_roots_export_name_key" ON "diskless_roots" USING btree ("export_name");--> statement-breakpoint
CREATE INDEX "diskless_roots_live_idx" ON "diskless_roots" USING btree ("released_at");--> statement-breakpoint
-- A live diskless root decides its host's boot answer (lib/boot-server/answers.ts keeps answers in memory).
CREATE FUNCTION kiln_boot_diskless_roots_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN PERFORM kiln_boot_notify(OLD.host_id, NULL); END IF;
  IF TG_OP <> 'DELETE' THEN PERFORM kiln_boot_notify(NEW.host_id, NULL); END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER kiln_boot_notify AFTER INSERT OR UPDATE OR DELETE ON diskless_roots
  FOR EACH ROW EXECUTE FUNCTION kiln_boot_diskless_roots_changed();
