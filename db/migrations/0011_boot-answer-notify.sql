-- The boot server keeps each MAC's answer in memory (lib/boot-server/answers.ts) and drops it
-- when something that answer is decided from changes. These triggers announce such changes on
-- the channel kiln_boot with a small payload, {"h": host id, "m": mac}, or "*" for all.
-- Columns that change often and decide nothing (last seen, progress, deadlines, boot counts)
-- are left out, so a boot server's own batched writes do not empty its memory. A run's text is
-- rendered once and stored on its row, so the tables it was rendered from (templates, vars,
-- leases) are not watched: a change there never changes a stored answer.
CREATE FUNCTION kiln_boot_notify(host_id uuid, mac text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF host_id IS NULL AND mac IS NULL THEN RETURN; END IF;
  PERFORM pg_notify('kiln_boot', json_strip_nulls(json_build_object('h', host_id, 'm', mac))::text);
END $$;
--> statement-breakpoint
-- A MAC's host: an interface added, moved (old and new MAC and host) or removed.
CREATE FUNCTION kiln_boot_host_interfaces_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN PERFORM kiln_boot_notify(OLD.host_id, OLD.mac); END IF;
  IF TG_OP <> 'DELETE' THEN PERFORM kiln_boot_notify(NEW.host_id, NEW.mac); END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER kiln_boot_notify AFTER INSERT OR UPDATE OR DELETE ON host_interfaces
  FOR EACH ROW EXECUTE FUNCTION kiln_boot_host_interfaces_changed();
--> statement-breakpoint
-- The host itself; last seen and its address are the boot server's own writes.
CREATE FUNCTION kiln_boot_hosts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - '{last_seen_at,source_ip,updated_at}'::text[]) = (to_jsonb(OLD) - '{last_seen_at,source_ip,updated_at}'::text[]) THEN
    RETURN NULL;
  END IF;
  PERFORM kiln_boot_notify(CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, NULL);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER kiln_boot_notify AFTER INSERT OR UPDATE OR DELETE ON hosts
  FOR EACH ROW EXECUTE FUNCTION kiln_boot_hosts_changed();
--> statement-breakpoint
-- Runs: the active one is answered, failed writes halt. Boot counts and the agent's progress
-- reports decide nothing.
CREATE FUNCTION kiln_boot_deployments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - '{boot_count,bytes_written,total_bytes,rate_bytes_per_second,progress_at}'::text[])
                        = (to_jsonb(OLD) - '{boot_count,bytes_written,total_bytes,rate_bytes_per_second,progress_at}'::text[]) THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN PERFORM kiln_boot_notify(OLD.host_id, NULL); END IF;
  IF TG_OP <> 'DELETE' THEN PERFORM kiln_boot_notify(NEW.host_id, NULL); END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER kiln_boot_notify AFTER INSERT OR UPDATE OR DELETE ON deployments
  FOR EACH ROW EXECUTE FUNCTION kiln_boot_deployments_changed();
--> statement-breakpoint
-- Steps decide a halt (did the disk step start?); deadlines, attempts and messages do not.
CREATE FUNCTION kiln_boot_deployment_steps_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  h uuid;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.deployment_id = OLD.deployment_id AND NEW.name = OLD.name AND NEW.state = OLD.state
     AND (NEW.started_at IS NULL) = (OLD.started_at IS NULL) THEN
    RETURN NULL;
  END IF;
  -- Gone with its run (cascade): the run's own delete announced it.
  SELECT host_id INTO h FROM deployments WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.deployment_id ELSE NEW.deployment_id END;
  PERFORM kiln_boot_notify(h, NULL);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER kiln_boot_notify AFTER INSERT OR UPDATE OR DELETE ON deployment_steps
  FOR EACH ROW EXECUTE FUNCTION kiln_boot_deployment_steps_changed();
--> statement-breakpoint
CREATE FUNCTION kiln_boot_host_boot_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM kiln_boot_notify(CASE WHEN TG_OP = 'DELETE' THEN OLD.host_id ELSE NEW.host_id END, NULL);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER kiln_boot_notify AFTER INSERT OR UPDATE OR DELETE ON host_boot_settings
  FOR EACH ROW EXECUTE FUNCTION kiln_boot_host_boot_settings_changed();
--> statement-breakpoint
-- A site's boot URL is in the answers of all its machines (the halt's re-check URL): drop all.
CREATE FUNCTION kiln_boot_sites_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kiln_boot', '*');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER kiln_boot_notify AFTER UPDATE OF boot_url OR DELETE ON sites
  FOR EACH ROW EXECUTE FUNCTION kiln_boot_sites_changed();
