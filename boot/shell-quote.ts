/** One sh word whatever `v` holds: single quotes, each ' written as '"'"'. */
export function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'"'"'`)}'`;
}
