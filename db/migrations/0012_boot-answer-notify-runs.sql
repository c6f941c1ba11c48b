-- A run's own progress must not empty the boot servers' memory (0011): its first boot moves it
-- pending → running and starts its boot step, and while it is active its answer is its script
-- whatever its steps say. Only a change between active and not, or of what decides a halt,
-- is announced. (Without this, a marked machine's answer was dropped by its own first boot, and
-- a PostgreSQL outage right after would have answered it local boot.)
CREATE OR REPLACE FUNCTION kiln_boot_deployment_decides(d deployments) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT (to_jsonb(d) - '{boot_count,bytes_written,total_bytes,rate_bytes_per_second,progress_at,started_at,state}'::text[])
         || jsonb_build_object('state', CASE WHEN d.state IN ('pending', 'running') THEN 'active' ELSE d.state::text END)
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION kiln_boot_deployments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND kiln_boot_deployment_decides(NEW) = kiln_boot_deployment_decides(OLD) THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN PERFORM kiln_boot_notify(OLD.host_id, NULL); END IF;
  IF TG_OP <> 'DELETE' THEN PERFORM kiln_boot_notify(NEW.host_id, NULL); END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION kiln_boot_deployment_steps_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  h uuid;
  s deployment_state;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.deployment_id = OLD.deployment_id AND NEW.name = OLD.name AND NEW.state = OLD.state
     AND (NEW.started_at IS NULL) = (OLD.started_at IS NULL) THEN
    RETURN NULL;
  END IF;
  -- Gone with its run (cascade): the run's own delete announced it. Active: its steps decide
  -- nothing until it ends, and its end is announced by the run's row.
  SELECT host_id, state INTO h, s FROM deployments WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.deployment_id ELSE NEW.deployment_id END;
  IF s IN ('pending', 'running') THEN RETURN NULL; END IF;
  PERFORM kiln_boot_notify(h, NULL);
  RETURN NULL;
END $$;
