// The harness's TCP frame hub: frame splitting (short and 0xFF-extended lengths, split chunks)
// and relaying to every other client but not back to the sender.
import { connect, type Socket } from "node:net";
import { expect, test } from "vitest";
import { FrameSplitter, startFrameHub } from "../../hardware/sim/frame-hub.js";

test("splits short and extended frames across arbitrary chunk boundaries", () => {
  const short = Buffer.from([3, 0xaa, 0xbb, 0xcc]);
  const longBody = Buffer.alloc(300, 7);
  const long = Buffer.concat([Buffer.from([0xff, 300 & 0xff, 300 >> 8]), longBody]);
  const stream = Buffer.concat([short, long, short]);
  for (const chunk of [1, 2, 5, 64, stream.length]) {
    const s = new FrameSplitter();
    const frames: Buffer[] = [];
    for (let i = 0; i < stream.length; i += chunk) frames.push(...s.push(stream.subarray(i, i + chunk)));
    expect(frames.map((f) => f.length)).toEqual([4, 303, 4]);
    expect(frames[1]!.equals(long)).toBe(true);
  }
});

test("relays frames to the other clients only, and closes cleanly", async () => {
  const hub = await startFrameHub(0);
  const open = () =>
    new Promise<Socket>((resolve) => {
      const s = connect(hub.port, "127.0.0.1", () => resolve(s));
    });
  const [a, b, c] = [await open(), await open(), await open()];
  const received = { a: [] as Buffer[], b: [] as Buffer[], c: [] as Buffer[] };
  a.on("data", (d: Buffer) => received.a.push(d));
  const gotB = new Promise<Buffer>((r) => b.once("data", r));
  const gotC = new Promise<Buffer>((r) => c.once("data", r));
  // the hub only counts a client once its connection is accepted: wait for all three
  while (hub.clientCount() < 3) await new Promise((r) => setImmediate(r));
  a.write(Buffer.from([2, 1, 2]));
  expect(await gotB).toEqual(Buffer.from([2, 1, 2]));
  expect(await gotC).toEqual(Buffer.from([2, 1, 2]));
  expect(received.a).toEqual([]);
  for (const s of [a, b, c]) s.destroy();
  await hub.close();
});

test("a VM ends by itself when its hub goes away (no orphans after a crashed harness)", async () => {
  const { startVm } = await import("../../hardware/sim/vm-process.js");
  const hub = await startFrameHub(0);
  const vm = startVm({ hubPort: hub.port });
  try {
    while (hub.clientCount() < 1) await new Promise((r) => setTimeout(r, 20));
    await hub.close();
    expect(await vm.exited).toBe(0);
  } finally {
    await vm.stop();
  }
});
