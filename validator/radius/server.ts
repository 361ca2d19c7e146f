import { randomUUID } from "node:crypto";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { Logger } from "pino";
import { userId } from "../../common/identifiers.js";
import type { ValidatorContext } from "../context.js";
import { loadRadiusClients, type RadiusClient } from "../operations/radius-clients.js";
import { recordRadiusRefusal } from "../operations/radius-refusals.js";
import { issueRadiusState, radiusStateChallenge } from "../operations/radius-states.js";
import { observedValidation } from "../observability/validation-events.js";
import { respondToChallenge, validatePasscode } from "../operations/validation.js";
import type { Actor } from "../storage/audit-log.js";
import { AttributeType, PacketCode, PromptValue, valuesOf, type Attribute } from "./attributes.js";
import { ClientRegistry, plainAddress } from "./client-registry.js";
import { metricsRadiusCounters, type DropReason, type RadiusCounters } from "./counters.js";
import { DecidedRequests } from "./decided-requests.js";
import { DuplicateCache } from "./duplicate-cache.js";
import { requestMessageAuthenticatorValid, signReply } from "./message-authenticator.js";
import { decodePacket, MalformedPacket, textAttributes, type ReceivedPacket } from "./packet.js";
import { promptsFor, type Prompts } from "./prompts.js";
import { revealPassword } from "./user-password.js";

export interface RadiusServerOptions {
  port: number;
  host: string;
  /** Defaults to the validator's /metrics counters. */
  counters?: RadiusCounters;
  /** Where each decision is logged (one line, as on HTTP); none without. */
  log?: Pick<Logger, "info">;
  /** One line per internal error (never a packet's content). */
  logError?: (message: string) => void;
  /** How often the client list is reloaded from the database. */
  clientRefreshMs?: number;
  /** How long an unknown address stays unaudited after it was audited once. */
  unknownAuditIntervalMs?: number;
}

type Remote = Pick<RemoteInfo, "address" | "port">;

export interface RadiusServer {
  address: { address: string; port: number };
  counters: RadiusCounters;
  clients: ClientRegistry;
  /** What the socket does with each datagram (exposed so the fuzz tests can drive many more than UDP allows). */
  handle(datagram: Buffer, remote: Remote): Promise<Buffer | null>;
  close(): Promise<void>;
}

/** Room left in a 4096-byte reply after the header, Message-Authenticator, State, Reply-Message and Prompt. */
const MAX_ECHOED_PROXY_STATE = 4096 - 20 - 18 - 255 - 3 * 255 - 6;

const RECEIVE_BUFFER_BYTES = 4 << 20;

const UNKNOWN_AUDITS_PER_INTERVAL = 10;

/** A datagram that gets no answer; `reason` is counted. */
class Drop extends Error {
  constructor(readonly reason: DropReason) {
    super(reason);
  }
}

/**
 * The RADIUS front door (RFC 2865 authentication, PAP only): it authenticates the client, parses the
 * request, calls the same operations as POST /v1/validate and presents the decision as Access-Accept,
 * -Reject or -Challenge. It decides nothing itself, and no datagram, however built, can stop it.
 */
export async function startRadiusServer(ctx: ValidatorContext, options: RadiusServerOptions): Promise<RadiusServer> {
  const counters = options.counters ?? metricsRadiusCounters(ctx.metrics);
  const log = options.log ?? { info: () => {} };
  const logError = options.logError ?? (() => {});
  const clients = new ClientRegistry(() => loadRadiusClients(ctx), (error) => logError(`cannot reload the RADIUS clients: ${error.message}`));
  await clients.start(options.clientRefreshMs);
  const duplicates = new DuplicateCache();
  const decided = new DecidedRequests();
  const unknownAudited = new Set<string>();
  let unknownWindowStartedAt = 0;
  let unknownLeftOut = 0;
  const unknownAuditIntervalMs = options.unknownAuditIntervalMs ?? 60_000;
  // Per client as loaded (a reload makes new client objects): the texts, and the accept and reject
  // Reply-Messages already split into attributes, since every request gets one of them.
  const replyTexts = new WeakMap<RadiusClient, { prompts: Prompts; accept: Attribute[]; reject: Attribute[] }>();
  const textsFor = (client: RadiusClient) => {
    let texts = replyTexts.get(client);
    if (!texts) {
      const prompts = promptsFor(client.language, client.prompts, ctx.policy);
      texts = { prompts, accept: textAttributes(AttributeType.ReplyMessage, prompts.accept), reject: textAttributes(AttributeType.ReplyMessage, prompts.reject) };
      replyTexts.set(client, texts);
    }
    return texts;
  };
  const socket: Socket = createSocket({ type: options.host.includes(":") ? "udp6" : "udp4" });

  /**
   * An address no client covers is audited once per interval, and at most UNKNOWN_AUDITS_PER_INTERVAL
   * addresses per interval in all: a flood from many addresses (spoofed, or an IPv6 prefix) can neither
   * fill the log nor queue writes ahead of the validations. The next audited one says how many datagrams
   * from addresses left out came meanwhile; the metrics count every such datagram.
   */
  function auditUnknownAddress(address: string): void {
    const now = Date.now();
    if (now - unknownWindowStartedAt >= unknownAuditIntervalMs) {
      unknownWindowStartedAt = now;
      unknownAudited.clear();
    }
    if (unknownAudited.has(address)) return;
    if (unknownAudited.size >= UNKNOWN_AUDITS_PER_INTERVAL) {
      unknownLeftOut++;
      return;
    }
    unknownAudited.add(address);
    const leftOut = unknownLeftOut;
    unknownLeftOut = 0;
    const actor: Actor = { id: "radius:unknown", role: "radius", source: address };
    recordRadiusRefusal(ctx, actor, "radius.unknown-client", null, "unknown-client", leftOut > 0 ? { unauditedDatagrams: leftOut } : {}).catch((error: Error) =>
      logError(`cannot audit an unknown RADIUS client: ${error.message}`),
    );
  }

  /** The reply to one datagram, or null for none: what the socket sends back to `remote`. */
  async function receive(datagram: Buffer, remote: Remote): Promise<Buffer | null> {
    const client = clients.match(remote.address);
    if (!client) {
      counters.dropped("unknown-client");
      auditUnknownAddress(plainAddress(remote.address));
      return null;
    }
    let packet: ReceivedPacket;
    try {
      packet = decodePacket(datagram);
      authenticate(packet, client);
    } catch (error) {
      if (error instanceof MalformedPacket) return dropped("malformed");
      if (error instanceof Drop) return dropped(error.reason);
      throw error;
    }
    if (packet.code === PacketCode.StatusServer) {
      // RFC 5997 §3: answered, never cached.
      return signReply({ code: PacketCode.AccessAccept, identifier: packet.identifier, attributes: [] }, packet.authenticator, client.secret);
    }
    const key = DuplicateCache.key(remote.address, remote.port, packet.identifier, packet.authenticator);
    const now = Date.now();
    const claim = duplicates.claim(key, now, DuplicateCache.digest(datagram));
    if (claim.kind === "pending") return dropped("duplicate-in-progress");
    if (claim.kind === "mismatch") return dropped("duplicate-mismatch");
    if (claim.kind === "reply") {
      counters.duplicateAnswered();
      return claim.reply;
    }
    // The same request again from elsewhere, or later than a retransmission: a replay (Request
    // Authenticators are unique, RFC 2865 §3). Deciding it again would count its consumed code as a
    // failure, so whoever captured one request could lock its user out.
    if (!decided.first(client.name, packet.authenticator, now)) {
      duplicates.release(key);
      return dropped("replayed");
    }
    const progress = { decided: false };
    try {
      const reply = await answer(packet, client, remote, progress);
      duplicates.complete(key, reply);
      return reply;
    } catch (error) {
      duplicates.release(key);
      // Undecided (a lost connection, say), the NAS's retry is looked at afresh. Decided, with only the
      // reply failing after, deciding the retry again would find its code spent and count a failure: it is
      // dropped as a replay instead, and the user starts over.
      if (!progress.decided) decided.forget(client.name, packet.authenticator);
      if (error instanceof Drop) return dropped(error.reason);
      throw error;
    }
  }

  function dropped(reason: DropReason): null {
    counters.dropped(reason);
    return null;
  }

  /**
   * Message-Authenticator (RFC 3579, checked in constant time): required unless the client is marked
   * as unable to send it, and even then a request with Proxy-State must carry it (BlastRADIUS).
   */
  function authenticate(packet: ReceivedPacket, client: RadiusClient): void {
    if (packet.code !== PacketCode.AccessRequest && packet.code !== PacketCode.StatusServer) throw new Drop("unsupported-code");
    const signed = valuesOf(packet.attributes, AttributeType.MessageAuthenticator).length > 0;
    if (!signed) {
      if (client.requireMessageAuthenticator || packet.code === PacketCode.StatusServer) throw new Drop("missing-message-authenticator");
      if (valuesOf(packet.attributes, AttributeType.ProxyState).length > 0) throw new Drop("proxy-state-without-message-authenticator");
      return;
    }
    if (!requestMessageAuthenticatorValid(packet, client.secret)) throw new Drop("bad-message-authenticator");
  }

  async function answer(packet: ReceivedPacket, client: RadiusClient, remote: Remote, progress: { decided: boolean }): Promise<Buffer> {
    const texts = textsFor(client);
    const proxyStates = packet.attributes.filter((attribute) => attribute.type === AttributeType.ProxyState);
    const reply = (code: number, attributes: Attribute[]) =>
      signReply({ code, identifier: packet.identifier, attributes: [...attributes, ...proxyStates] }, packet.authenticator, client.secret);
    // Proxy-States are echoed: refuse, before anything is decided, a request whose reply could not fit.
    if (proxyStates.reduce((sum, attribute) => sum + attribute.value.length + 2, 0) > MAX_ECHOED_PROXY_STATE) throw new Drop("malformed");
    const names = valuesOf(packet.attributes, AttributeType.UserName);
    const actor: Actor = { id: `radius:${client.name}`, role: "radius", source: `${plainAddress(remote.address)}:${remote.port}`, context: nasContext(packet) };

    const method = valuesOf(packet.attributes, AttributeType.ChapPassword).length > 0 ? "chap" : valuesOf(packet.attributes, AttributeType.EapMessage).length > 0 ? "eap" : null;
    const refuse = async (user: string | null, reason: string) => {
      await recordRadiusRefusal(ctx, actor, "validate", user, reason);
      ctx.metrics.recordRefusal("radius", reason);
      counters.decided("reject", reason);
      return reply(PacketCode.AccessReject, texts.reject);
    };
    if (method !== null) return refuse(names.length === 1 ? names[0]!.toString() : null, `${method}-unsupported`);

    const hidden = valuesOf(packet.attributes, AttributeType.UserPassword);
    const states = valuesOf(packet.attributes, AttributeType.State);
    if (names.length !== 1 || names[0]!.length === 0 || hidden.length !== 1 || states.length > 1) throw new Drop("malformed");
    // The identifier rule of every front door (common/identifiers.ts): no NUL for PostgreSQL to refuse,
    // no character that folds into someone else's identifier.
    const givenUser = userId.safeParse(names[0]!.toString());
    if (!givenUser.success) return refuse(names[0]!.toString(), "invalid-user-name");
    const password = revealPassword(hidden[0]!, client.secret, packet.authenticator);
    if (password === null) throw new Drop("malformed");
    // Normalised here too, so a State matches its user whatever the case the NAS sends it in.
    const user = givenUser.data;

    const decision = await observedValidation(log, ctx.metrics, "radius", user, async () => {
      if (states.length === 0) return validatePasscode(ctx, actor, user, password.toString());
      // A State never issued to this user and client stands for no challenge: the operation rejects it
      // like any unknown challenge (counted as a failure, audited). An expired or answered one is refused
      // by its challenge's rules, as on HTTP.
      const challengeId = (await radiusStateChallenge(ctx, client.name, user, states[0]!)) ?? randomUUID();
      return respondToChallenge(ctx, actor, user, challengeId, password.toString());
    });
    progress.decided = true;
    counters.decided(decision.result, decision.result === "reject" ? decision.reason : undefined);

    switch (decision.result) {
      case "accept":
        return reply(PacketCode.AccessAccept, texts.accept);
      case "reject":
        // One generic text whatever the reason, as on HTTP.
        return reply(PacketCode.AccessReject, texts.reject);
      case "challenge": {
        const state = await issueRadiusState(ctx, client.name, user, decision.id, decision.expiresAt);
        const { prompts } = texts;
        const text = decision.weakPin ? prompts.weakPin(decision.weakPin) : decision.kind === "new-pin" ? prompts.newPin : prompts.nextCode;
        return reply(PacketCode.AccessChallenge, [
          { type: AttributeType.State, value: state },
          ...textAttributes(AttributeType.ReplyMessage, text),
          { type: AttributeType.Prompt, value: Buffer.from([0, 0, 0, PromptValue.NoEcho]) },
        ]);
      }
    }
  }

  const handle = (datagram: Buffer, remote: Remote) =>
    receive(datagram, remote).catch((error: Error) => {
      counters.dropped("internal-error");
      logError(`RADIUS request from ${remote.address} failed: ${error.message}`);
      return null;
    });
  socket.on("message", (datagram, remote) => {
    void handle(datagram, remote).then((reply) => reply && socket.send(reply, remote.port, remote.address, () => {}));
  });
  socket.on("error", (error) => logError(`RADIUS socket error: ${error.message}`));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(options.port, options.host, () => {
        socket.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    clients.stop();
    throw new Error(`cannot listen for RADIUS on ${options.host}:${options.port}: ${(error as Error).message}`);
  }
  // A NAS sends bursts (up to 255 requests in flight per source port): the default receive buffer
  // (~200 KiB, about 150 small datagrams once kernel overhead is counted) would drop some, and each drop
  // costs the NAS a retransmission timeout. The kernel caps this at net.core.rmem_max.
  try {
    socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
  } catch (error) {
    logError(`cannot enlarge the RADIUS receive buffer: ${(error as Error).message}`);
  }
  const bound = socket.address();
  return {
    address: { address: bound.address, port: bound.port },
    counters,
    clients,
    handle,
    async close() {
      clients.stop();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** Where the request came from, for the audit log: NAS-Identifier or NAS-IP-Address, Calling-Station-Id. */
function nasContext(packet: ReceivedPacket): Record<string, string> {
  const context: Record<string, string> = {};
  const [identifier] = valuesOf(packet.attributes, AttributeType.NasIdentifier);
  const [ip] = valuesOf(packet.attributes, AttributeType.NasIpAddress);
  const [calling] = valuesOf(packet.attributes, AttributeType.CallingStationId);
  if (identifier) context.nasIdentifier = identifier.toString();
  if (ip?.length === 4) context.nasIpAddress = [...ip].join(".");
  if (calling) context.callingStationId = calling.toString();
  return context;
}
