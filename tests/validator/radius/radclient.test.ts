import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRadiusClient, removeRadiusClient } from "../../../validator/operations/radius-clients.js";
import { AttributeType, PacketCode } from "../../../validator/radius/attributes.js";
import { InMemoryRadiusCounters } from "../../../validator/radius/counters.js";
import { signRequest } from "../../../validator/radius/message-authenticator.js";
import { hidePassword } from "../../../validator/radius/user-password.js";
import { startRadiusServer, type RadiusServer } from "../../../validator/radius/server.js";
import { challengeKey } from "../../../validator/storage/attempt-store.js";
import { radclient, radclientAvailable } from "../../support/radclient.js";
import { rememberSecret } from "../../support/secret-registry.js";
import { tokenHolders } from "../../support/token-holders.js";
import { dialects, startValidator, testDatabase, type RunningValidator } from "../../support/test-validator.js";

const operator = { id: "test", role: "operator", source: "test" };
const PIN = "583920";

describe.skipIf(!radclientAvailable).each(dialects)("RADIUS front door driven by radclient on %s", (dialect) => {
  let v: RunningValidator;
  let radius: RadiusServer;
  let counters: InMemoryRadiusCounters;
  let drop: () => Promise<void>;
  let secret: string;

  beforeAll(async () => {
    const database = await testDatabase(dialect);
    drop = database.drop;
    v = await startValidator(database.location);
    secret = (await addRadiusClient(v.ctx, operator, { name: "vpn1", address: "127.0.0.0/8", requireMessageAuthenticator: true, language: "en", prompts: {} })).secret;
    counters = new InMemoryRadiusCounters();
    // A request that fails inside the server gets no answer: say why, so such a test failure explains itself.
    radius = await startRadiusServer(v.ctx, { port: 0, host: "127.0.0.1", counters, logError: (message) => process.stderr.write(`${message}\n`) });
  });
  afterAll(async () => {
    await radius?.close();
    await v?.close();
    await drop?.();
  });

  const holders = tokenHolders(() => v, "RAD");
  const newUser = holders.add;
  const code = (user: string, stepsAhead = 0) => holders.code(user, stepsAhead, PIN);

  const send = (attributes: string[], options = {}) => radclient(radius.address.port, secret, attributes, options);
  const request = (user: string, password: string, extra: string[] = []) =>
    send([`User-Name = "${user}"`, `User-Password = "${password}"`, 'NAS-Identifier = "vpn-gw-1"', 'Calling-Station-Id = "198.51.100.7"', ...extra]);

  async function audit(user: string) {
    return v.ctx.database.db.selectFrom("audit_log").selectAll().where("user_name", "=", user).where("actor", "like", "radius:%").orderBy("id").execute();
  }
  async function failures(user: string) {
    return (await v.ctx.database.db.selectFrom("users").select("failures").where("name", "=", user).executeTakeFirstOrThrow()).failures;
  }

  it("accepts PIN + code, with Message-Authenticator first in the reply, and audits the NAS without the password", async () => {
    await newUser("alice", PIN);
    const passcode = PIN + code("alice");
    const reply = await request("alice", passcode);
    expect(reply.code).toBe("Access-Accept");
    // radclient checked the Response Authenticator and the Message-Authenticator; -x prints them in order.
    expect([...reply.attributes.keys()][0]).toBe("Message-Authenticator");
    const [entry] = await audit("alice");
    expect(entry).toMatchObject({ actor: "radius:vpn1", role: "radius", event: "validate", result: "accept" });
    expect(entry!.source).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(JSON.parse(entry!.detail!)).toMatchObject({ nasIdentifier: "vpn-gw-1", callingStationId: "198.51.100.7" });
    expect(JSON.stringify(entry)).not.toContain(passcode);
    expect(counters.decisions.get("accept")).toBeGreaterThanOrEqual(1);
  });

  it("rejects a wrong passcode and an unknown user with the same generic Reply-Message, counting the failure", async () => {
    await newUser("bruno", PIN);
    const wrong = await request("bruno", PIN + "000000");
    const unknown = await request("nobody", PIN + "000000");
    expect(wrong.code).toBe("Access-Reject");
    expect(unknown.code).toBe("Access-Reject");
    expect(wrong.attributes.get("Reply-Message")).toEqual(["Authentication failed."]);
    expect(unknown.attributes.get("Reply-Message")).toEqual(wrong.attributes.get("Reply-Message"));
    expect([...wrong.attributes.keys()][0]).toBe("Message-Authenticator");
    expect(await failures("bruno")).toBe(1);
    expect((await audit("bruno")).at(-1)).toMatchObject({ actor: "radius:vpn1", result: "reject" });
  });

  it("first use: code alone → Access-Challenge (State, Reply-Message, Prompt No-Echo) → new PIN → Access-Accept", async () => {
    await newUser("chloe", null);
    const challenge = await request("chloe", code("chloe"));
    expect(challenge.code).toBe("Access-Challenge");
    expect([...challenge.attributes.keys()][0]).toBe("Message-Authenticator");
    expect(challenge.attributes.get("Reply-Message")).toEqual(["Choose a new PIN of 6 to 12 digits."]);
    expect(challenge.attributes.get("Prompt")).toEqual(["No-Echo"]);
    const [state] = challenge.attributes.get("State")!;
    expect(state).toMatch(/^0x[0-9a-f]{40,}$/);
    // RADIUS travels in clear: the State must not carry the challenge id, which would answer the challenge
    // through the HTTP API. No 36-byte stretch of it is an id whose hash the challenges table holds.
    const open = await v.ctx.database.db.selectFrom("challenges").select("id").where("user_name", "=", "chloe").execute();
    expect(open).toHaveLength(1);
    // Nor does the database row that maps it to the challenge (a dump must not answer it either).
    const [row] = await v.ctx.database.db.selectFrom("radius_states").select("sealed_challenge").where("user_name", "=", "chloe").execute();
    for (const bytes of [Buffer.from(state!.slice(2), "hex"), Buffer.from(row!.sealed_challenge, "base64")]) {
      const stretches = Array.from({ length: bytes.length - 35 }, (_, offset) => challengeKey(bytes.subarray(offset, offset + 36).toString("latin1")));
      expect(stretches).not.toContain(open[0]!.id);
    }
    rememberSecret("274915");
    const accepted = await request("chloe", "274915", [`State = ${state}`]);
    expect(accepted.code).toBe("Access-Accept");
    v.clock.advance(60);
    expect((await request("chloe", "274915" + code("chloe"))).code).toBe("Access-Accept");
  });

  it("a weak new PIN gets a new Challenge saying why, with a new State for the same challenge; once it is answered, no State answers it again", async () => {
    await newUser("david", null);
    const first = await request("david", code("david"));
    const [state] = first.attributes.get("State")!;
    const weak = await request("david", "123456", [`State = ${state}`]);
    expect(weak.code).toBe("Access-Challenge");
    expect(weak.attributes.get("Reply-Message")![0]).toMatch(/^This PIN is a run of consecutive digits/);
    const [next] = weak.attributes.get("State")!;
    expect(next).not.toBe(state);
    rememberSecret("402917");
    expect((await request("david", "402917", [`State = ${next}`])).code).toBe("Access-Accept");
    // The challenge is single use, so both its States are spent: refused, as a retry, with no failure counted.
    expect((await request("david", "402917", [`State = ${state}`])).code).toBe("Access-Reject");
    expect((await request("david", "402917", [`State = ${next}`])).code).toBe("Access-Reject");
    expect(await failures("david")).toBe(0);
  });

  it("next-code: a code outside the direct window → Challenge; the next code with the State → Accept", async () => {
    await newUser("emma", PIN);
    const challenge = await request("emma", PIN + code("emma", 4));
    expect(challenge.code).toBe("Access-Challenge");
    expect(challenge.attributes.get("Reply-Message")).toEqual(["Wait for the next code on your token and enter it."]);
    const [state] = challenge.attributes.get("State")!;
    expect((await request("emma", code("emma", 5), [`State = ${state}`])).code).toBe("Access-Accept");
  });

  it("a forged State, another user's State and a replayed State are rejected", async () => {
    await newUser("fanny", PIN);
    await newUser("gaston", PIN);
    const forged = await request("fanny", code("fanny", 1), [`State = 0x${randomBytes(32).toString("hex")}`]);
    expect(forged.code).toBe("Access-Reject");
    expect((await audit("fanny")).at(-1)).toMatchObject({ result: "reject" });

    const challenge = await request("fanny", PIN + code("fanny", 4));
    const [state] = challenge.attributes.get("State")!;
    expect((await request("gaston", code("gaston", 5), [`State = ${state}`])).code).toBe("Access-Reject");
    expect((await request("fanny", code("fanny", 5), [`State = ${state}`])).code).toBe("Access-Accept");
    // The same answer again, in a new request: the State was single use (its challenge is answered), and
    // this retry counts no failure (the accept had cleared the forged State's).
    expect((await request("fanny", code("fanny", 5), [`State = ${state}`])).code).toBe("Access-Reject");
    expect(await failures("fanny")).toBe(0);
  });

  it("a State answered through another client is rejected", async () => {
    await newUser("gilles", PIN);
    const other = await addRadiusClient(v.ctx, operator, { name: "wifi", address: "127.0.0.2", requireMessageAuthenticator: true, language: "en", prompts: {} });
    await radius.clients.refresh();
    const challenge = await request("gilles", PIN + code("gilles", 4));
    const [state] = challenge.attributes.get("State")!;
    // radclient cannot choose its source address: the other client's request goes straight to the server's handler.
    const authenticator = randomBytes(16);
    const otherSecret = Buffer.from(other.secret);
    const answer = signRequest(
      {
        code: PacketCode.AccessRequest,
        identifier: 1,
        authenticator,
        attributes: [
          { type: AttributeType.UserName, value: Buffer.from("gilles") },
          { type: AttributeType.UserPassword, value: hidePassword(Buffer.from(code("gilles", 5)), otherSecret, authenticator) },
          { type: AttributeType.State, value: Buffer.from(state!.slice(2), "hex") },
        ],
      },
      otherSecret,
    );
    const reply = await radius.handle(answer, { address: "127.0.0.2", port: 1812 });
    expect(reply?.[0]).toBe(PacketCode.AccessReject);
    expect((await audit("gilles")).at(-1)).toMatchObject({ actor: "radius:wifi", result: "reject" });
    // The foreign attempt did not spend the State: its own client can still answer.
    expect((await request("gilles", code("gilles", 5), [`State = ${state}`])).code).toBe("Access-Accept");
    await removeRadiusClient(v.ctx, operator, "wifi");
    await radius.clients.refresh();
  });

  /** An Access-Request for `user` signed with vpn1's secret, as the handler receives it. */
  function signedRequest(user: string | Buffer, password: string, authenticator = randomBytes(16)): Buffer {
    const shared = Buffer.from(secret);
    return signRequest(
      {
        code: PacketCode.AccessRequest,
        identifier: 9,
        authenticator,
        attributes: [
          { type: AttributeType.UserName, value: Buffer.isBuffer(user) ? user : Buffer.from(user) },
          { type: AttributeType.UserPassword, value: hidePassword(Buffer.from(password), shared, authenticator) },
        ],
      },
      shared,
    );
  }

  it("a captured request sent again from another port, or after the retransmission window, gets no answer and counts no failure", async () => {
    await newUser("ines", PIN);
    const captured = signedRequest("ines", PIN + code("ines"));
    expect((await radius.handle(captured, { address: "127.0.0.1", port: 40_000 }))?.[0]).toBe(PacketCode.AccessAccept);
    const replayedBefore = counters.drops.get("replayed") ?? 0;
    expect(await radius.handle(captured, { address: "127.0.0.1", port: 40_001 })).toBeNull();
    expect(await radius.handle(captured, { address: "127.0.0.9", port: 40_000 })).toBeNull();
    expect(counters.drops.get("replayed")).toBe(replayedBefore + 2);
    expect(await failures("ines")).toBe(0);
    // The NAS's own retransmission (same address and port) still gets the reply it missed.
    expect((await radius.handle(captured, { address: "127.0.0.1", port: 40_000 }))?.[0]).toBe(PacketCode.AccessAccept);
  });

  it("a different request under a cached one's address, port, identifier and authenticator (a NAS reusing its authenticator) gets no answer, never the other's reply", async () => {
    await newUser("jade", PIN);
    const authenticator = randomBytes(16);
    const first = signedRequest("jade", PIN + code("jade"), authenticator);
    expect((await radius.handle(first, { address: "127.0.0.1", port: 40_010 }))?.[0]).toBe(PacketCode.AccessAccept);
    const other = signedRequest("nobody", PIN + "000000", authenticator);
    expect(await radius.handle(other, { address: "127.0.0.1", port: 40_010 })).toBeNull();
    expect(counters.drops.get("duplicate-mismatch")).toBe(1);
  });

  it("a User-Name outside the identifier rule is refused like an unknown user, before any lookup (NUL, a character that folds into a letter)", async () => {
    await newUser("kelvin", PIN);
    for (const name of [Buffer.from("kelvin\0"), "\u212Aelvin"]) {
      const reply = await radius.handle(signedRequest(name, PIN + code("kelvin")), { address: "127.0.0.1", port: 40_002 });
      expect(reply?.[0]).toBe(PacketCode.AccessReject);
    }
    const refusals = await v.ctx.database.db.selectFrom("audit_log").select(["user_name", "detail"]).where("detail", "like", "%invalid-user-name%").execute();
    expect(refusals).toHaveLength(2);
    expect(refusals.every((row) => row.user_name === null)).toBe(true);
    expect(await failures("kelvin")).toBe(0);
    // kelvin's code was not spent by the look-alike name.
    expect((await request("kelvin", PIN + code("kelvin"))).code).toBe("Access-Accept");
  });

  it("a prompt too long to fit one reply beside the Proxy-States it echoes is refused when the client is added", async () => {
    const settings = { address: "127.0.0.3", requireMessageAuthenticator: true, language: "en" as const };
    await expect(addRadiusClient(v.ctx, operator, { ...settings, name: "long", prompts: { accept: "é".repeat(301) } })).rejects.toThrow(/602 bytes; at most 600/);
    await addRadiusClient(v.ctx, operator, { ...settings, name: "long", prompts: { "new-pin": "é".repeat(300) } });
    await removeRadiusClient(v.ctx, operator, "long");
  });

  it("a replayed passcode is rejected", async () => {
    await newUser("hugo", PIN);
    const passcode = PIN + code("hugo");
    expect((await request("hugo", passcode)).code).toBe("Access-Accept");
    expect((await request("hugo", passcode)).code).toBe("Access-Reject");
  });

  it("a retransmission gets the same reply and is not decided again (no code consumed, no extra failure)", async () => {
    await newUser("irene", PIN);
    // A lossy link: the first reply of each request is lost, so radclient retransmits (same identifier
    // and Request Authenticator) and takes the second.
    const relay = await lossyRelay(radius.address.port);
    try {
      const accepted = await radclient(relay.port, secret, [`User-Name = "irene"`, `User-Password = "${PIN + code("irene")}"`], { retries: 3, timeoutSeconds: 1 });
      expect(accepted.code).toBe("Access-Accept");
      const rejected = await radclient(relay.port, secret, [`User-Name = "irene"`, `User-Password = "${PIN}000000"`], { retries: 3, timeoutSeconds: 1 });
      expect(rejected.code).toBe("Access-Reject");
      expect(relay.replies).toHaveLength(4);
      expect(relay.replies[1]).toEqual(relay.replies[0]);
      expect(relay.replies[3]).toEqual(relay.replies[2]);
    } finally {
      relay.close();
    }
    expect((await audit("irene")).map((entry) => entry.result)).toEqual(["accept", "reject"]);
    expect(await failures("irene")).toBe(1);
    expect(counters.duplicates).toBeGreaterThanOrEqual(2);
  });

  it("a request without Message-Authenticator, or signed with the wrong secret, gets no answer and changes nothing", async () => {
    await newUser("jules", PIN);
    const before = await audit("jules");
    const dropped = { missing: counters.drops.get("missing-message-authenticator") ?? 0, bad: counters.drops.get("bad-message-authenticator") ?? 0 };
    const unsigned = await send([`User-Name = "jules"`, `User-Password = "${PIN + code("jules")}"`], { sign: false, timeoutSeconds: 1 });
    expect(unsigned.code).toBeNull();
    const forged = await radclient(radius.address.port, "not-the-shared-secret", [`User-Name = "jules"`, `User-Password = "${PIN}000000"`], { timeoutSeconds: 1 });
    expect(forged.code).toBeNull();
    expect(counters.drops.get("missing-message-authenticator")).toBe(dropped.missing + 1);
    expect(counters.drops.get("bad-message-authenticator")).toBe(dropped.bad + 1);
    expect(await audit("jules")).toEqual(before);
    expect(await failures("jules")).toBe(0);
    // The code was not consumed.
    expect((await request("jules", PIN + code("jules"))).code).toBe("Access-Accept");
  });

  it("CHAP gets Access-Reject with an audit reason and a count in /metrics; Proxy-State is copied in order; Status-Server is answered", async () => {
    await newUser("karim", PIN);
    const chapRejects = async () =>
      Number(/^jeton_validations_total\{front_door="radius",result="reject",reason="chap-unsupported"\} (\d+)$/m.exec((await v.ctx.metrics.exposition()).text)?.[1] ?? 0);
    const chapRejectsBefore = await chapRejects();
    const chap = await send([`User-Name = "karim"`, `CHAP-Password = "${PIN}123456"`]);
    expect(chap.code).toBe("Access-Reject");
    expect(JSON.parse((await audit("karim")).at(-1)!.detail!)).toMatchObject({ reason: "chap-unsupported" });
    expect(await chapRejects()).toBe(chapRejectsBefore + 1);
    // A User-Name that names nobody (here a PIN + code typed in the wrong field) is audited as its fingerprint only.
    const typed = `${PIN}123456`;
    rememberSecret(typed);
    expect((await send([`User-Name = "${typed}"`, `CHAP-Password = "${PIN}123456"`])).code).toBe("Access-Reject");
    const [refusal] = await v.ctx.database.db.selectFrom("audit_log").selectAll().where("event", "=", "validate").orderBy("id", "desc").limit(1).execute();
    expect(JSON.stringify(refusal)).not.toContain(typed);
    expect(refusal!.user_name).toBeNull();
    expect(JSON.parse(refusal!.detail!)).toMatchObject({ reason: "chap-unsupported", identifier: v.ctx.unknownIdentifier(typed) });

    const proxied = await request("karim", PIN + "000000", ["Proxy-State = 0x0102", "Proxy-State = 0x0304"]);
    expect(proxied.attributes.get("Proxy-State")).toEqual(["0x0102", "0x0304"]);

    const status = await send([], { command: "status" });
    expect(status.code).toBe("Access-Accept");
  });

  it("an address no client covers gets no answer and is audited once a minute at most; a client added later is served", async () => {
    await removeRadiusClient(v.ctx, operator, "vpn1");
    await radius.clients.refresh();
    try {
      const first = await send(["Message-Authenticator = 0x00"], { command: "status", timeoutSeconds: 1 });
      const second = await send([`User-Name = "nobody"`, `User-Password = "123456"`], { timeoutSeconds: 1 });
      expect(first.code).toBeNull();
      expect(second.code).toBeNull();
      const unknown = await v.ctx.database.db.selectFrom("audit_log").selectAll().where("event", "=", "radius.unknown-client").execute();
      expect(unknown).toHaveLength(1);
      expect(unknown[0]).toMatchObject({ actor: "radius:unknown", source: "127.0.0.1", result: "reject" });
    } finally {
      secret = (await addRadiusClient(v.ctx, operator, { name: "vpn1", address: "127.0.0.1", requireMessageAuthenticator: true, language: "fr", prompts: {} })).secret;
      await radius.clients.refresh();
    }
    await newUser("lea", null);
    const challenge = await request("lea", code("lea"));
    expect(challenge.attributes.get("Reply-Message")![0]).toMatch(/^Choisissez un nouveau code PIN de 6 /);
  });

  it("datagrams from thousands of unknown addresses are all counted but audited ten times per interval at most, the next audit saying how many were left out", async () => {
    const flooded = new InMemoryRadiusCounters();
    const server = await startRadiusServer(v.ctx, { port: 0, host: "127.0.0.1", counters: flooded, unknownAuditIntervalMs: 500 });
    const audited = () => v.ctx.database.db.selectFrom("audit_log").select("detail").where("event", "=", "radius.unknown-client").orderBy("id").execute();
    try {
      const before = (await audited()).length;
      const started = Date.now();
      for (let index = 0; index < 2_000; index++) expect(await server.handle(Buffer.alloc(20), { address: `2001:db8::${index.toString(16)}`, port: 1 })).toBeNull();
      const floodMillis = Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 600)); // the audit writes are not awaited by the handler; the interval ends
      expect(flooded.drops.get("unknown-client")).toBe(2_000);
      const windows = Math.ceil(floodMillis / 500) + 1;
      expect((await audited()).length - before).toBeLessThanOrEqual(10 * windows);
      expect(await server.handle(Buffer.alloc(20), { address: "2001:db8::ffff:1", port: 1 })).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const last = (await audited()).at(-1)!;
      expect(JSON.parse(last.detail!).unauditedDatagrams).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});

/** Forwards datagrams to the server and back, dropping the first reply to each request. */
async function lossyRelay(serverPort: number): Promise<{ port: number; replies: Buffer[]; close(): void }> {
  const front: Socket = createSocket("udp4");
  const back: Socket = createSocket("udp4");
  const replies: Buffer[] = [];
  const seen = new Set<string>();
  let client: { address: string; port: number } | null = null;
  front.on("message", (datagram, remote) => {
    client = { address: remote.address, port: remote.port };
    back.send(datagram, serverPort, "127.0.0.1");
  });
  back.on("message", (datagram) => {
    replies.push(datagram);
    const key = datagram.subarray(0, 2).toString("hex");
    if (!seen.has(key)) {
      seen.add(key);
      return;
    }
    if (client) front.send(datagram, client.port, client.address);
  });
  await new Promise<void>((resolve) => front.bind(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => back.bind(0, "127.0.0.1", resolve));
  return { port: (front.address() as AddressInfo).port, replies, close: () => (front.close(), back.close()) };
}
