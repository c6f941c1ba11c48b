// postgres.js 3.4.9 (the newest release) can throw from a timer after PostgreSQL closed the
// connection: a buffered write fires on a socket it has already dropped (`TypeError: Cannot
// read properties of null (reading 'write')` at connection.js nextWrite; porsager/postgres
// #1154, #1208, fixes proposed in #1168, #1176, #1209, unreleased). It is an uncaught exception
// with nothing of Kiln's on the stack and nothing lost: the connection is already gone and the
// pool reconnects. A process that must outlive PostgreSQL (the boot server) survives exactly
// this one; every other uncaught exception still ends the process.
export function isPostgresJsWriteAfterClose(err: unknown): boolean {
  return err instanceof TypeError && /reading 'write'/.test(err.message) && /[/\\]postgres[/\\]src[/\\]connection\.js/.test(err.stack ?? "");
}
