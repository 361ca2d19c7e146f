// RADIUS requests that fail half-way or come late (findings of an attacker review, 2026-12-03, each of
// which failed before its fix): the handler is driven directly, with one database call made to fail.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRadiusClient } from "../../../validator/operations/radius-clients.js";
import { AttributeType, PacketCode } from "../../../validator/radius/attributes.js";
import { InMemoryRadiusCounters } from "../../../validator/radius/counters.js";
import { signRequest } from "../../../validator/radius/message-authenticator.js";
import { decodePacket } from "../../../validator/radius/packet.js";
import { hidePassword } from "../../../validator/radius/user-password.js";
import { startRadiusServer, type RadiusServer } from "../../../validator/radius/server.js";
import { tokenHolders } from "../../support/token-holders.js";
import { startValidator, testDatabase, type RunningValidator } from "../../support/test-validator.js";

const operator = { id: "test", role: "operator", source: "test" };
const PIN = "583920";
const NAS = { address: "127.0.0.1", port: 41_000 };

describe("RADIUS retries and late answers (sqlite)", () => {
  let v: RunningValidator;
  let drop: () => Promise<void>;
  let secret: Buffer;
  const servers: RadiusServer[] = [];

  async function server(): Promise<RadiusServer> {
    const started = await startRadiusServer(v.ctx, { port: 0, host: "127.0.0.1", counters: new InMemoryRadiusCounters(), logError: () => {} });
    servers.push(started);
    return started;
  }

  beforeAll(async () => {
    const database = await testDatabase("sqlite");
    drop = database.drop;
    v = await startValidator(database.location);
    secret = Buffer.from((await addRadiusClient(v.ctx, operator, { name: "vpn", address: "127.0.0.0/8", requireMessageAuthenticator: true, language: "en", prompts: {} })).secret);
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await v?.close();
    await drop?.();
  });

  const holders = tokenHolders(() => v, "REV");
  const newUser = holders.add;
  const code = (user: string, stepsAhead = 0) => holders.code(user, stepsAhead, PIN);
  function accessRequest(user: string, password: string, state?: Buffer, identifier = 7): Buffer {
    const authenticator = randomBytes(16);
    return signRequest(
      {
        code: PacketCode.AccessRequest,
        identifier,
        authenticator,
        attributes: [
          { type: AttributeType.UserName, value: Buffer.from(user) },
          { type: AttributeType.UserPassword, value: hidePassword(Buffer.from(password), secret, authenticator) },
          ...(state ? [{ type: AttributeType.State, value: state }] : []),
        ],
      },
      secret,
    );
  }
  async function failures(user: string): Promise<number> {
    return (await v.ctx.database.db.selectFrom("users").select("failures").where("name", "=", user).executeTakeFirstOrThrow()).failures;
  }
  const stateOf = (reply: Buffer) => decodePacket(reply).attributes.find((a) => a.type === AttributeType.State)!.value;

  // The State used to be deleted in a transaction of its own before the decision, so a retry of a request
  // whose decision failed found it gone: an unknown challenge, rejected and counted as a failure.
  it("a NAS retry of a challenge answer whose first decision failed is decided afresh, not rejected as a failure", async () => {
    await newUser("r2user", PIN);
    const s = await server();
    const opened = await s.handle(accessRequest("r2user", PIN + code("r2user", 4)), NAS);
    expect(opened?.[0]).toBe(PacketCode.AccessChallenge);
    const answer = accessRequest("r2user", code("r2user", 5), stateOf(opened!));
    const attempts = v.ctx.database.attempts;
    const run = attempts.run;
    attempts.run = () => {
      attempts.run = run;
      return Promise.reject(new Error("Connection terminated unexpectedly"));
    };
    expect(await s.handle(answer, NAS)).toBeNull(); // internal error: no reply, nothing decided
    attempts.run = run;
    // The NAS retransmits the very same datagram.
    const retried = await s.handle(answer, NAS);
    expect(await failures("r2user")).toBe(0);
    expect(retried?.[0]).toBe(PacketCode.AccessAccept);
  });

  // A committed decision whose reply failed (here the State insert of an Access-Challenge) used to be
  // decided again at the NAS's retry: its first-use code spent, a failure.
  it("a NAS retry after a committed decision whose reply could not be built is not decided twice", async () => {
    await newUser("r2buser", null);
    const s = await server();
    const first = accessRequest("r2buser", code("r2buser"));
    const database = v.ctx.database;
    const attempts = database.attempts;
    const run = attempts.run;
    const transaction = database.transaction;
    attempts.run = async (request, decide) => {
      attempts.run = run;
      const result = await run(request, decide);
      // The decision is committed; the next transaction (issueRadiusState) fails once.
      database.transaction = () => {
        database.transaction = transaction;
        return Promise.reject(new Error("Connection terminated unexpectedly"));
      };
      return result;
    };
    expect(await s.handle(first, NAS)).toBeNull();
    attempts.run = run;
    database.transaction = transaction;
    await s.handle(first, NAS); // the NAS retransmits
    expect(await failures("r2buser")).toBe(0);
  });

  // An expired State used to stand for no challenge (a failure), where the same late answer on HTTP is
  // `challenge-expired` and counts nothing.
  it("answering a next-code challenge after it expired counts no failure, as on HTTP", async () => {
    await newUser("r3user", PIN);
    const s = await server();
    const opened = await s.handle(accessRequest("r3user", PIN + code("r3user", 4)), NAS);
    expect(opened?.[0]).toBe(PacketCode.AccessChallenge);
    v.clock.advance(v.ctx.policy.nextCodeChallengeSeconds + 1);
    const late = await s.handle(accessRequest("r3user", code("r3user", 5), stateOf(opened!)), NAS);
    expect(late?.[0]).toBe(PacketCode.AccessReject);
    expect(await failures("r3user")).toBe(0);
  });
});
