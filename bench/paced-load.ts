import { Agent, request } from "node:http";

export interface PacedResult {
  sent: number;
  ratePerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** A request's body, and what to do with the `result` field of its answer. */
export interface PacedRequest {
  body: string;
  onResult?: (result: string) => void;
}

/**
 * Open-loop load: request i is sent at start + i / rate, whether or not earlier ones were answered, so
 * latency includes any queueing the server causes (autocannon's rate limit sends each second's share in
 * a burst, which measures the burst instead). Requests go round-robin to `urls`.
 */
export async function pacedLoad(urls: string[], headers: Record<string, string>, next: () => PacedRequest, ratePerSecond: number, seconds: number): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const targets = urls.map((url) => new URL(url));
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(ratePerSecond * seconds);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  const send = (target: URL) =>
    new Promise<void>((resolve) => {
      const { body, onResult } = next();
      const sentAt = performance.now();
      const outgoing = request(target, { method: "POST", agent, headers }, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk));
        response.on("end", () => {
          if (response.statusCode === 200) {
            latencies.push(performance.now() - sentAt);
            onResult?.((JSON.parse(text) as { result: string }).result);
          } else errors++;
          resolve();
        });
      });
      outgoing.on("error", () => {
        errors++;
        resolve();
      });
      outgoing.end(body);
    });
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * ratePerSecond) + 1);
    while (sent < due) {
      inFlight.push(send(targets[sent % targets.length]!));
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => Number((latencies[Math.floor((latencies.length - 1) * p)] ?? NaN).toFixed(2));
  return { sent: total, ratePerSecond: Math.round(total / elapsed), p50Ms: percentile(0.5), p99Ms: percentile(0.99), errors };
}
