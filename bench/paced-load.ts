import { Agent, request } from "node:http";

export interface PacedResult {
  sent: number;
  ratePerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * Open-loop load: request i is sent at start + i / rate, whether or not earlier ones were answered, so
 * latency includes any queueing the server causes (autocannon's rate limit sends each second's share in
 * a burst, which measures the burst instead).
 */
export async function pacedLoad(url: string, headers: Record<string, string>, nextBody: () => string, ratePerSecond: number, seconds: number): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(ratePerSecond * seconds);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  const send = () =>
    new Promise<void>((resolve) => {
      const sentAt = performance.now();
      const outgoing = request(target, { method: "POST", agent, headers }, (response) => {
        response.resume();
        response.on("end", () => {
          if (response.statusCode === 200) latencies.push(performance.now() - sentAt);
          else errors++;
          resolve();
        });
      });
      outgoing.on("error", () => {
        errors++;
        resolve();
      });
      outgoing.end(nextBody());
    });
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * ratePerSecond) + 1);
    while (sent < due) {
      inFlight.push(send());
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
