"use client";
// The admin's editor for a host's own template variables (PUT /hosts/:id/vars): a JSON object,
// checked here with the route's own schema so a typo is caught before the round trip, and a
// JSON syntax error says where (line and column), not just "Unexpected token".
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "../ui/button";
import { TextAreaField } from "../ui/field";
import { toast } from "../ui/toast";
import { useApi } from "../ui/use-api";
import { parseHostVars } from "./host-vars-parse";

export function HostVarsEditor({ hostId, vars }: { hostId: string; vars: Record<string, unknown> }) {
  const router = useRouter();
  const saved = JSON.stringify(vars, null, 2);
  const [text, setText] = useState(saved);
  const [localError, setLocalError] = useState<string | null>(null);
  const api = useApi<{ vars: Record<string, unknown> }>(`/api/v1/hosts/${hostId}/vars`, "PUT", { fields: ["vars"] });
  const serverError = api.errorsOf("vars")?.join(" ") ?? api.formError;
  return (
    <section aria-labelledby="host-vars" className="space-y-3">
      <h2 id="host-vars" className="font-semibold">
        Template variables
      </h2>
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          const result = parseHostVars(text);
          if ("error" in result) {
            setLocalError(result.error);
            return;
          }
          setLocalError(null);
          api.mutate(result, {
            onSuccess: () => {
              toast(`Saved ${Object.keys(result.vars).length} variable${Object.keys(result.vars).length === 1 ? "" : "s"} for this host.`);
              setText(JSON.stringify(result.vars, null, 2));
              router.refresh();
            },
          });
        }}
      >
        <TextAreaField
          name="vars"
          label="Variables (JSON object)"
          rows={6}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setLocalError(null);
          }}
          spellCheck={false}
          hint="Every template rendered for this host sees these as {{ vars.name }}; the holder's own variables (set when reinstalling) override them."
          error={localError ? [localError] : serverError ? [serverError] : undefined}
        />
        <Button type="submit" variant="secondary" disabled={api.isPending || text === saved}>
          Save variables
        </Button>
      </form>
    </section>
  );
}
