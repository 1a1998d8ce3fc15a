// A process that takes one assignment's claim and keeps it until it is killed: the tests SIGKILL
// it to show that the claim ends with its holder. Usage: claim-holder.ts <databaseUrl> <assignmentId>
import { createAssignmentClaims } from "@keyturn/db";

const [databaseUrl, assignmentId] = process.argv.slice(2);
if (databaseUrl === undefined || assignmentId === undefined) {
  process.stderr.write("usage: claim-holder.ts <databaseUrl> <assignmentId>\n");
  process.exit(2);
}
const claims = createAssignmentClaims({ databaseUrl });
const claim = await claims.acquire(assignmentId);
process.stdout.write(claim === null ? "busy\n" : "claimed\n");
setInterval(() => undefined, 60_000);
