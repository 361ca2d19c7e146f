import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRadiusClient } from "../../validator/operations/radius-clients.js";
import { AttributeType, PacketCode } from "../../validator/radius/attributes.js";
import { InMemoryRadiusCounters } from "../../validator/radius/counters.js";
import { replyAuthenticatorValid, signRequest } from "../../validator/radius/message-authenticator.js";
import { decodePacket, encodePacket, MalformedPacket } from "../../validator/radius/packet.js";
import { startRadiusServer, type RadiusServer } from "../../validator/radius/server.js";
import { hidePassword } from "../../validator/radius/user-password.js";
import { startValidator, testDatabase, type RunningValidator } from "../support/test-validator.js";
import { fuzzRuns } from "./fuzz-runs.js";

const remote = { address: "127.0.0.1", port: 40000 };

describe("fuzz: the RADIUS decoder and server", () => {
  let v: RunningValidator;
  let radius: RadiusServer;
  let counters: InMemoryRadiusCounters;
  let secret: Buffer;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await testDatabase("sqlite");
    drop = database.drop;
    v = await startValidator(database.location);
    await v.request("POST", "/v1/tokens", { serial: "FUZZ-1", secretHex: randomBytes(32).toString("hex") });
    await v.request("POST", "/v1/tokens/FUZZ-1/assign", { user: "fuzz" });
    secret = Buffer.from((await addRadiusClient(v.ctx, { id: "test", role: "operator", source: "test" }, { name: "nas", address: "127.0.0.1", requireMessageAuthenticator: true, language: "en", prompts: {} })).secret);
    counters = new InMemoryRadiusCounters();
    radius = await startRadiusServer(v.ctx, { port: 0, host: "127.0.0.1", counters });
  });
  afterAll(async () => {
    await radius?.close();
    await v?.close();
    await drop?.();
  });

  /** Everything a dropped datagram must leave as it was. */
  async function snapshot() {
    const db = v.ctx.database.db;
    return {
      audit: await db.selectFrom("audit_log").select(db.fn.countAll().as("n")).executeTakeFirstOrThrow(),
      users: await db.selectFrom("users").selectAll().execute(),
      tokens: await db.selectFrom("tokens").selectAll().execute(),
      challenges: await db.selectFrom("challenges").selectAll().execute(),
      states: await db.selectFrom("radius_states").selectAll().execute(),
    };
  }

  const attribute = fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 40 }) });
  /** A well-formed packet of any code with random attributes, possibly with a (wrong) Message-Authenticator. */
  const structured = fc
    .record({ code: fc.integer({ min: 0, max: 255 }), identifier: fc.integer({ min: 0, max: 255 }), authenticator: fc.uint8Array({ minLength: 16, maxLength: 16 }), attributes: fc.array(attribute, { maxLength: 12 }) })
    .map((packet) => encodePacket({ ...packet, authenticator: Buffer.from(packet.authenticator), attributes: packet.attributes.map((a) => ({ type: a.type, value: Buffer.from(a.value) })) }));
  const validRequest = () =>
    signRequest(
      {
        code: PacketCode.AccessRequest,
        identifier: 7,
        authenticator: randomBytes(16),
        attributes: [
          { type: AttributeType.UserName, value: Buffer.from("fuzz") },
          { type: AttributeType.UserPassword, value: hidePassword(Buffer.from("583920123456"), secret, randomBytes(16)) },
        ],
      },
      secret,
    );
  /** A correctly signed request with some bytes inside its length changed: the signature no longer holds. */
  const tampered = fc.record({ positions: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), xor: fc.integer({ min: 1, max: 255 }) }).map(({ positions, xor }) => {
    const bytes = validRequest();
    const length = bytes.readUInt16BE(2);
    // Each byte changed once (twice would cancel out).
    for (const position of new Set(positions.map((position) => position % length))) bytes[position] ^= xor;
    return bytes;
  });
  const garbage = fc.oneof(fc.uint8Array({ maxLength: 4200 }).map((bytes) => Buffer.from(bytes)), structured, tampered);

  it("decodes any bytes without throwing anything but MalformedPacket", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4200 }), (bytes) => {
        try {
          const packet = decodePacket(Buffer.from(bytes));
          expect(packet.authenticator).toHaveLength(16);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedPacket);
        }
      }),
      { numRuns: fuzzRuns },
    );
  });

  it("answers no garbage, never fails, and changes nothing", async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(garbage, async (datagram) => {
        expect(await radius.handle(datagram, remote)).toBeNull();
      }),
      { numRuns: fuzzRuns },
    );
    expect(await snapshot()).toEqual(before);
    expect(counters.drops.get("internal-error")).toBeUndefined();
    expect(counters.decisions.size).toBe(0);
  });

  it("any correctly signed request is answered with a valid reply or dropped, never a failure", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(attribute, { maxLength: 8 }), fc.boolean(), async (attributes, withCredentials) => {
        const authenticator = randomBytes(16);
        const datagram = signRequest(
          {
            code: PacketCode.AccessRequest,
            identifier: 1,
            authenticator,
            attributes: [
              ...(withCredentials ? [{ type: AttributeType.UserName, value: Buffer.from("fuzz") }, { type: AttributeType.UserPassword, value: randomBytes(16) }] : []),
              ...attributes.filter((a) => a.type !== AttributeType.MessageAuthenticator).map((a) => ({ type: a.type, value: Buffer.from(a.value) })),
            ],
          },
          secret,
        );
        const reply = await radius.handle(datagram, { address: "127.0.0.1", port: 1 + (authenticator.readUInt16BE(0) % 60000) });
        if (reply !== null) {
          expect([PacketCode.AccessAccept, PacketCode.AccessReject, PacketCode.AccessChallenge]).toContain(reply[0]);
          expect(replyAuthenticatorValid(reply, authenticator, secret)).toBe(true);
          expect(reply[0]).not.toBe(PacketCode.AccessAccept);
        }
      }),
      { numRuns: Math.max(50, Math.round(fuzzRuns / 20)) },
    );
    expect(counters.drops.get("internal-error")).toBeUndefined();
  });

  it("keeps answering on its UDP socket after a burst of garbage", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    try {
      const replies: Buffer[] = [];
      socket.on("message", (reply) => replies.push(reply));
      const sent = (datagram: Buffer) => new Promise((resolve) => socket.send(datagram, radius.address.port, "127.0.0.1", resolve));
      // Paced, so the burst does not simply overflow the socket's receive buffer.
      for (const [index, datagram] of fc.sample(garbage, 300).entries()) {
        await sent(datagram);
        if (index % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const authenticator = randomBytes(16);
      const status = signRequest({ code: PacketCode.StatusServer, identifier: 9, authenticator, attributes: [] }, secret);
      // UDP may still lose a datagram: retransmit like a NAS would.
      for (let attempt = 0; attempt < 20 && replies.length === 0; attempt++) {
        await sent(status);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(replies.length).toBeGreaterThanOrEqual(1);
      expect(replies[0]![0]).toBe(PacketCode.AccessAccept);
      expect(replyAuthenticatorValid(replies[0]!, authenticator, secret)).toBe(true);
    } finally {
      socket.close();
    }
  });
});
