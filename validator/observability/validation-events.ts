// One call for every front door around a validation: it times the decision, then writes its log line
// and its metrics, the same for HTTP, RADIUS and the console.
import type { Logger } from "pino";
import type { Decision } from "../policy/outcome.js";
import type { FrontDoor, Metrics } from "./metrics.js";

export async function observedValidation(
  log: Pick<Logger, "info">,
  metrics: Metrics,
  frontDoor: FrontDoor,
  user: string,
  decide: () => Promise<Decision>,
): Promise<Decision> {
  const started = process.hrtime.bigint();
  const decision = await decide();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  metrics.recordValidation(frontDoor, decision, seconds);
  // An unknown user's "identifier" may be anything typed into the field (a password, say): not logged.
  const known = !(decision.result === "reject" && decision.reason === "unknown-user");
  log.info(
    {
      event: "validation",
      frontDoor,
      result: decision.result,
      ...(decision.result === "reject" && { reason: decision.reason }),
      ...(decision.result === "challenge" && { kind: decision.kind }),
      ...(decision.result === "accept" && { via: decision.via }),
      ...(known && { user }),
      durationMs: Math.round(seconds * 1e6) / 1e3,
    },
    `validation ${decision.result}`,
  );
  return decision;
}
