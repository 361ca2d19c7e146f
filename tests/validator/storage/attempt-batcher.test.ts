import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AttemptBatcher } from "../../../validator/storage/attempt-batcher.js";

interface Item {
  user: string;
  index: number;
}

/** A batcher whose batches finish when the test says; what it started, and when. */
function observed(maxInFlight: number, maxBatch: number) {
  const started: Item[][] = [];
  const running = new Map<Item[], () => void>();
  let mostInFlight = 0;
  const batcher = new AttemptBatcher<Item>(
    (batch) =>
      new Promise<void>((resolve) => {
        started.push(batch);
        running.set(batch, resolve);
        mostInFlight = Math.max(mostInFlight, running.size);
      }),
    maxInFlight,
    maxBatch,
  );
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    batcher,
    started,
    running,
    settle,
    get mostInFlight() {
      return mostInFlight;
    },
    /** Finishes the oldest running batch and lets the batcher start what it can. */
    async finishOldest() {
      const [batch, finish] = running.entries().next().value!;
      running.delete(batch);
      finish();
      await settle();
      await settle();
    },
  };
}

describe("attempt batcher (storage/attempt-batcher.ts)", () => {
  it("attempts that arrive together leave together; those that arrive meanwhile wait for a free slot", async () => {
    const o = observed(1, 64);
    for (let index = 0; index < 3; index++) o.batcher.add({ user: `u${index}`, index });
    await o.settle();
    expect(o.started.map((batch) => batch.map((item) => item.index))).toEqual([[0, 1, 2]]);
    for (let index = 3; index < 6; index++) o.batcher.add({ user: `u${index}`, index });
    await o.settle();
    expect(o.started).toHaveLength(1);
    await o.finishOldest();
    expect(o.started.map((batch) => batch.map((item) => item.index))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
  });

  it("any arrivals: every attempt runs once; a user is never in two batches in flight nor twice in one; a user's attempts run in arrival order; limits hold", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 8 }),
        async (users, maxInFlight, maxBatch) => {
          const o = observed(maxInFlight, maxBatch);
          users.forEach((user, index) => o.batcher.add({ user: `u${user}`, index }));
          await o.settle();
          for (let rounds = 0; o.running.size > 0; rounds++) {
            const inFlight = [...o.running.keys()].flatMap((batch) => batch.map((item) => item.user));
            expect(new Set(inFlight).size).toBe(inFlight.length);
            await o.finishOldest();
            expect(rounds).toBeLessThan(users.length);
          }
          const ran = o.started.flat();
          expect(ran.map((item) => item.index).sort((a, b) => a - b)).toEqual(users.map((_, index) => index));
          for (const user of new Set(users)) {
            const order = ran.filter((item) => item.user === `u${user}`).map((item) => item.index);
            expect(order).toEqual([...order].sort((a, b) => a - b));
          }
          expect(Math.max(...o.started.map((batch) => batch.length))).toBeLessThanOrEqual(maxBatch);
          expect(o.mostInFlight).toBeLessThanOrEqual(maxInFlight);
        },
      ),
      { numRuns: 200 },
    );
  });
});
