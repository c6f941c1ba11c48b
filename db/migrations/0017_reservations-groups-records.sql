CREATE TYPE "public"."lease_end_stage" AS ENUM('warned', 'grace', 'capturing', 'releasing', 'returned');--> statement-breakpoint
CREATE TYPE "public"."reservation_state" AS ENUM('scheduled', 'preparing', 'active', 'ended', 'cancelled', 'failed');--> statement-breakpoint
CREATE TABLE "deployment_groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"lease_id" uuid,
	"reservation_id" uuid,
	"user_id" uuid,
	"spec" jsonb NOT NULL,
	"host_ids" uuid[] NOT NULL,
	"max_attempts" integer DEFAULT 2 NOT NULL,
	"rerun_of_record_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_records" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"deployment_id" uuid,
	"host_id" uuid,
	"project_id" uuid,
	"user_id" uuid,
	"record" jsonb NOT NULL,
	"record_sha256" text NOT NULL,
	"outcome" jsonb,
	"published_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "calendar_feeds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"pool_id" uuid,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "calendar_feeds_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "host_bookings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"host_id" uuid NOT NULL,
	"during" "tstzrange" NOT NULL,
	"lease_id" uuid,
	"reservation_id" uuid,
	CONSTRAINT "host_bookings_one_owner" CHECK (("host_bookings"."lease_id" is null) <> ("host_bookings"."reservation_id" is null))
);
--> statement-breakpoint
CREATE TABLE "maintenance_windows" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"pool_id" uuid,
	"host_id" uuid,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"created_by_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "maintenance_windows_target" CHECK ("maintenance_windows"."pool_id" is not null or "maintenance_windows"."host_id" is not null),
	CONSTRAINT "maintenance_windows_ends_after_start" CHECK ("maintenance_windows"."ends_at" > "maintenance_windows"."starts_at")
);
--> statement-breakpoint
CREATE TABLE "reservation_hosts" (
	"reservation_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"chosen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"replaced_at" timestamp with time zone,
	"replaced_reason" text,
	CONSTRAINT "reservation_hosts_reservation_id_host_id_pk" PRIMARY KEY("reservation_id","host_id")
);
--> statement-breakpoint
CREATE TABLE "reservations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"created_by_user_id" uuid,
	"pool_id" uuid,
	"title" text DEFAULT '' NOT NULL,
	"count" integer NOT NULL,
	"criteria" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"prepare_from" timestamp with time zone NOT NULL,
	"state" "reservation_state" DEFAULT 'scheduled' NOT NULL,
	"deploy" jsonb,
	"plan" jsonb,
	"lease_id" uuid,
	"failure_reason" text,
	"reminders_sent" integer[] DEFAULT '{}'::int[] NOT NULL,
	"cancelled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reservations_ends_after_start" CHECK ("reservations"."ends_at" > "reservations"."starts_at"),
	CONSTRAINT "reservations_prepare_before_start" CHECK ("reservations"."prepare_from" <= "reservations"."starts_at"),
	CONSTRAINT "reservations_count_positive" CHECK ("reservations"."count" > 0)
);
--> statement-breakpoint
ALTER TABLE "leases" ADD COLUMN "end_stage" "lease_end_stage";--> statement-breakpoint
ALTER TABLE "leases" ADD COLUMN "grace_ends_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "leases" ADD COLUMN "reservation_id" uuid;--> statement-breakpoint
ALTER TABLE "pools" ADD COLUMN "end_grace_minutes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "max_advance_days" integer;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "group_id" uuid;--> statement-breakpoint
ALTER TABLE "deployment_groups" ADD CONSTRAINT "deployment_groups_lease_id_leases_id_fk" FOREIGN KEY ("lease_id") REFERENCES "public"."leases"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployment_groups" ADD CONSTRAINT "deployment_groups_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_records" ADD CONSTRAINT "run_records_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_records" ADD CONSTRAINT "run_records_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "calendar_feeds" ADD CONSTRAINT "calendar_feeds_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "calendar_feeds" ADD CONSTRAINT "calendar_feeds_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."pools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_bookings" ADD CONSTRAINT "host_bookings_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_bookings" ADD CONSTRAINT "host_bookings_lease_id_leases_id_fk" FOREIGN KEY ("lease_id") REFERENCES "public"."leases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_bookings" ADD CONSTRAINT "host_bookings_reservation_id_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "public"."reservations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."pools"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "maintenance_windows" ADD CONSTRAINT "maintenance_windows_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservation_hosts" ADD CONSTRAINT "reservation_hosts_reservation_id_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "public"."reservations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservation_hosts" ADD CONSTRAINT "reservation_hosts_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."pools"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_lease_id_leases_id_fk" FOREIGN KEY ("lease_id") REFERENCES "public"."leases"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployment_groups_lease_idx" ON "deployment_groups" USING btree ("lease_id");--> statement-breakpoint
CREATE UNIQUE INDEX "run_records_deployment_key" ON "run_records" USING btree ("deployment_id") WHERE "run_records"."deployment_id" is not null;--> statement-breakpoint
CREATE INDEX "run_records_project_idx" ON "run_records" USING btree ("project_id","created_at");--> statement-breakpoint
CREATE INDEX "run_records_host_idx" ON "run_records" USING btree ("host_id","created_at");--> statement-breakpoint
CREATE INDEX "calendar_feeds_user_idx" ON "calendar_feeds" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "host_bookings_lease_idx" ON "host_bookings" USING btree ("lease_id");--> statement-breakpoint
CREATE INDEX "host_bookings_reservation_idx" ON "host_bookings" USING btree ("reservation_id");--> statement-breakpoint
CREATE INDEX "maintenance_windows_pool_idx" ON "maintenance_windows" USING btree ("pool_id","starts_at");--> statement-breakpoint
CREATE INDEX "maintenance_windows_host_idx" ON "maintenance_windows" USING btree ("host_id","starts_at");--> statement-breakpoint
CREATE INDEX "reservation_hosts_host_idx" ON "reservation_hosts" USING btree ("host_id");--> statement-breakpoint
CREATE INDEX "reservations_project_idx" ON "reservations" USING btree ("project_id","starts_at");--> statement-breakpoint
CREATE INDEX "reservations_user_idx" ON "reservations" USING btree ("user_id","starts_at");--> statement-breakpoint
CREATE INDEX "reservations_pool_time_idx" ON "reservations" USING btree ("pool_id","starts_at");--> statement-breakpoint
CREATE INDEX "reservations_due_idx" ON "reservations" USING btree ("prepare_from") WHERE "reservations"."state" = 'scheduled';--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_group_id_deployment_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."deployment_groups"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployments_group_idx" ON "deployments" USING btree ("group_id") WHERE "deployments"."group_id" is not null;--> statement-breakpoint
-- btree_gist lets one GiST index hold both the host id (=) and the time range (&&). It is a
-- trusted extension (PostgreSQL 13+): a database owner may create it without superuser.
CREATE EXTENSION IF NOT EXISTS btree_gist;
--> statement-breakpoint
-- No host is booked twice at any moment, by leases, reservations or both: checked by PostgreSQL
-- itself, so no race in the application can double-book (lib/reservations/admission.ts).
ALTER TABLE "host_bookings" ADD CONSTRAINT "host_bookings_no_overlap" EXCLUDE USING gist ("host_id" WITH =, "during" WITH &&);
--> statement-breakpoint
-- An active lease's hosts are booked from when each joined to the lease's end (or the end of its
-- grace, lib/leases/staged-end.ts). Kept here rather than in each caller so that every path
-- that grants, hands over, releases or extends a lease keeps its bookings right.
CREATE FUNCTION kiln_lease_booking_end(l leases) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
  SELECT greatest(l.ends_at, coalesce(l.grace_ends_at, l.ends_at))
$$;
--> statement-breakpoint
CREATE FUNCTION kiln_lease_hosts_booking() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  l leases;
  e timestamptz;
BEGIN
  IF TG_OP = 'INSERT' AND NEW.released_at IS NULL THEN
    SELECT * INTO l FROM leases WHERE id = NEW.lease_id;
    IF l.state = 'active' THEN
      e := kiln_lease_booking_end(l);
      INSERT INTO host_bookings (host_id, during, lease_id) VALUES (NEW.host_id, tstzrange(least(NEW.added_at, e), e), NEW.lease_id);
    END IF;
  ELSIF TG_OP = 'UPDATE' AND OLD.released_at IS NULL AND NEW.released_at IS NOT NULL THEN
    DELETE FROM host_bookings WHERE lease_id = NEW.lease_id AND host_id = NEW.host_id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER kiln_lease_hosts_booking AFTER INSERT OR UPDATE OF released_at ON lease_hosts
  FOR EACH ROW EXECUTE FUNCTION kiln_lease_hosts_booking();
--> statement-breakpoint
CREATE FUNCTION kiln_leases_booking() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  e timestamptz;
BEGIN
  IF NEW.state <> 'active' THEN
    DELETE FROM host_bookings WHERE lease_id = NEW.id;
  ELSE
    e := kiln_lease_booking_end(NEW);
    UPDATE host_bookings SET during = tstzrange(least(lower(during), e), e) WHERE lease_id = NEW.id AND upper(during) IS DISTINCT FROM e;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER kiln_leases_booking AFTER UPDATE OF state, ends_at, grace_ends_at ON leases
  FOR EACH ROW EXECUTE FUNCTION kiln_leases_booking();
--> statement-breakpoint
INSERT INTO host_bookings (host_id, during, lease_id)
  SELECT lh.host_id, tstzrange(least(lh.added_at, kiln_lease_booking_end(l)), kiln_lease_booking_end(l)), l.id
  FROM lease_hosts lh JOIN leases l ON l.id = lh.lease_id
  WHERE lh.released_at IS NULL AND l.state = 'active';
