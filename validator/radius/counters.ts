import type { Metrics } from "../observability/metrics.js";

/** Why a datagram got no answer; each is counted (and exported to /metrics by whoever binds the counters). */
export type DropReason =
  | "unknown-client"
  | "malformed"
  | "unsupported-code"
  | "missing-message-authenticator"
  | "proxy-state-without-message-authenticator"
  | "bad-message-authenticator"
  | "duplicate-in-progress"
  | "duplicate-mismatch"
  | "replayed"
  | "internal-error";

/** What the RADIUS server counts; the server takes any implementation, the default only keeps totals. */
export interface RadiusCounters {
  dropped(reason: DropReason): void;
  /** One per decision made through operations/ (front door "radius"); `reason` only on rejects. */
  decided(result: "accept" | "reject" | "challenge", reason?: string): void;
  /** A retransmission answered from the duplicate cache. */
  duplicateAnswered(): void;
}

export class InMemoryRadiusCounters implements RadiusCounters {
  readonly drops = new Map<DropReason, number>();
  readonly decisions = new Map<string, number>();
  duplicates = 0;

  dropped(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  decided(result: "accept" | "reject" | "challenge", reason?: string): void {
    const key = reason ? `${result}:${reason}` : result;
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
  }

  duplicateAnswered(): void {
    this.duplicates++;
  }
}

/** The serving process's counters: drops and retransmissions go to /metrics (decisions are recorded there by observedValidation, CHAP and EAP refusals by the server itself). */
export function metricsRadiusCounters(metrics: Metrics): RadiusCounters {
  return {
    dropped: (reason) => metrics.radiusDropped(reason),
    decided: () => {},
    duplicateAnswered: () => metrics.radiusDuplicateAnswered(),
  };
}
