// One call for every front door once a validation is decided: a log line and the metrics, the same
// for HTTP, RADIUS and the console.
import type { Logger } from "pino";
import type { Decision } from "../policy/outcome.js";
import type { FrontDoor, Metrics } from "./metrics.js";

export function observeValidation(log: Pick<Logger, "info">, metrics: Metrics, frontDoor: FrontDoor, user: string, decision: Decision, seconds: number): void {
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
}
