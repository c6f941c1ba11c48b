// MAC addresses arrive as aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF (iPXE's ${mac:hexhyp}),
// aabb.ccdd.eeff (switches) or bare hex; Kiln stores one form: lower-case with colons.
const FORMS = [/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, /^([0-9a-f]{2}-){5}[0-9a-f]{2}$/, /^([0-9a-f]{4}\.){2}[0-9a-f]{4}$/, /^[0-9a-f]{12}$/];

export function normalizeMac(input: string): string | null {
  const s = input.trim().toLowerCase();
  if (!FORMS.some((re) => re.test(s))) return null;
  return s.replace(/[:.\-]/g, "").match(/../g)!.join(":");
}
