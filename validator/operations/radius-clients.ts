import { BlockList, isIP } from "node:net";
import type { Selectable } from "kysely";
import type { ValidatorContext } from "../context.js";
import type { Language } from "../messages.js";
import { promptKinds, type PromptOverrides } from "../radius/prompts.js";
import { randomText } from "../secrets/random-text.js";
import { appendAudit, type Actor } from "../storage/audit-log.js";
import type { RadiusClientsTable } from "../storage/schema.js";
import { OperationError } from "./operation-error.js";

export const MIN_SECRET_LENGTH = 16;
/**
 * A reply's Reply-Message gets 3 attributes (759 bytes) beside the Proxy-States it may echo (server.ts);
 * a weak-PIN reply puts the reason (under 100 bytes) before the new-PIN prompt.
 */
const MAX_PROMPT_BYTES = 600;
/**
 * Generated secrets: 32 letters and digits (190 bits). No "-" or "_": a secret starting with "-" is taken
 * for an option by the tools that take it on their command line (radclient, radtest).
 */
const GENERATED_SECRET_LENGTH = 32;
const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const NAME_FORMAT = /^[A-Za-z0-9._-]{1,64}$/;

export interface RadiusClientSettings {
  name: string;
  address: string;
  /** Generated (32 characters) when absent. */
  secret?: string;
  requireMessageAuthenticator: boolean;
  language: Language;
  prompts: PromptOverrides;
}

export interface RadiusClientView {
  name: string;
  address: string;
  requireMessageAuthenticator: boolean;
  language: Language;
  prompts: PromptOverrides;
  createdAt: string;
}

/** What the RADIUS server needs about a client, secret included (kept in memory only). */
export interface RadiusClient extends Omit<RadiusClientView, "createdAt"> {
  secret: Buffer;
}


/** "192.0.2.7", "192.0.2.0/24", "2001:db8::/32" → normalised text, or an error naming the problem. */
export function parseClientAddress(address: string): { network: string; prefix: number; family: "ipv4" | "ipv6" } {
  const [network = "", prefixText, extra] = address.trim().split("/");
  const version = isIP(network);
  if (version === 0 || extra !== undefined) throw new OperationError("invalid", `${address} is not an IP address or CIDR block`);
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) throw new OperationError("invalid", `${address}: the prefix length must be 0–${bits}`);
  // IPv4 NASes are matched by their IPv4 address, whatever the socket: a block of IPv4-mapped addresses would match nothing.
  if (version === 6 && /^::ffff:/i.test(network)) throw new OperationError("invalid", `${address}: write an IPv4 client's address as IPv4 (a.b.c.d or a.b.c.d/n)`);
  return { network, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** Whether two blocks are the same (same family and length, one's network inside the other: 192.0.2.7/24 is 192.0.2.0/24). */
function sameBlock(a: ReturnType<typeof parseClientAddress>, b: ReturnType<typeof parseClientAddress>): boolean {
  if (a.family !== b.family || a.prefix !== b.prefix) return false;
  const range = new BlockList();
  range.addSubnet(a.network, a.prefix, a.family);
  return range.check(b.network, b.family);
}

export async function addRadiusClient(ctx: ValidatorContext, actor: Actor, settings: RadiusClientSettings): Promise<{ client: RadiusClientView; secret: string; generated: boolean }> {
  if (!NAME_FORMAT.test(settings.name)) throw new OperationError("invalid", "a client name is 1–64 letters, digits, '.', '_' or '-'");
  const block = parseClientAddress(settings.address);
  const { network, prefix } = block;
  const address = `${network}/${prefix}`;
  const generated = settings.secret === undefined;
  const secret = settings.secret ?? randomText(SECRET_ALPHABET, GENERATED_SECRET_LENGTH);
  if (secret.length < MIN_SECRET_LENGTH) throw new OperationError("invalid", `a shared secret needs at least ${MIN_SECRET_LENGTH} characters`);
  if (Buffer.byteLength(secret) > 128) throw new OperationError("invalid", "a shared secret has at most 128 bytes");
  for (const [kind, text] of Object.entries(settings.prompts)) {
    if (!(promptKinds as readonly string[]).includes(kind)) throw new OperationError("invalid", `unknown prompt ${kind} (known: ${promptKinds.join(", ")})`);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_PROMPT_BYTES) {
      throw new OperationError("invalid", `the ${kind} prompt has ${bytes} bytes; at most ${MAX_PROMPT_BYTES} fit in one RADIUS reply beside the Proxy-States it echoes`);
    }
  }
  const now = ctx.now();
  const sealed = ctx.vault.sealRadiusSecret(settings.name, Buffer.from(secret));
  await ctx.database.transaction(async (trx) => {
    const others = await trx.selectFrom("radius_clients").select(["name", "address"]).execute();
    if (others.some((other) => other.name === settings.name)) throw new OperationError("conflict", `a RADIUS client named ${settings.name} exists already`);
    // A NAS is matched to one client, whose secret checks its requests: a second client on the same block
    // would take its traffic (and drop it, under another secret) from an add that said nothing.
    const clash = others.find((other) => sameBlock(parseClientAddress(other.address), block));
    if (clash) {
      throw new OperationError("conflict", `${address} is the block of RADIUS client ${clash.name} (${clash.address}) already: remove that client first, or give a more specific address`);
    }
    await trx
      .insertInto("radius_clients")
      .values({
        name: settings.name,
        address,
        sealed_secret: sealed.ciphertext,
        key_id: sealed.keyId,
        require_message_authenticator: settings.requireMessageAuthenticator ? 1 : 0,
        language: settings.language,
        prompts: Object.keys(settings.prompts).length > 0 ? JSON.stringify(settings.prompts) : null,
        created_at: now,
      })
      .execute();
    await appendAudit(trx, actor, now, {
      event: "radius-client.add",
      result: "ok",
      detail: { client: settings.name, address, requireMessageAuthenticator: settings.requireMessageAuthenticator, language: settings.language },
    });
  });
  return {
    client: { name: settings.name, address, requireMessageAuthenticator: settings.requireMessageAuthenticator, language: settings.language, prompts: settings.prompts, createdAt: new Date(now).toISOString() },
    secret,
    generated,
  };
}

export async function listRadiusClients(ctx: ValidatorContext): Promise<RadiusClientView[]> {
  const rows = await ctx.database.db.selectFrom("radius_clients").selectAll().orderBy("name").execute();
  return rows.map((row) => ({ ...settingsOf(row), createdAt: new Date(row.created_at).toISOString() }));
}

export async function removeRadiusClient(ctx: ValidatorContext, actor: Actor, name: string): Promise<void> {
  const now = ctx.now();
  await ctx.database.transaction(async (trx) => {
    const result = await trx.deleteFrom("radius_clients").where("name", "=", name).executeTakeFirst();
    if (result.numDeletedRows !== 1n) throw new OperationError("not-found", `no RADIUS client named ${name}`);
    await trx.deleteFrom("radius_states").where("client_name", "=", name).execute();
    await appendAudit(trx, actor, now, { event: "radius-client.remove", result: "ok", detail: { client: name } });
  });
}

/** Every client with its secret opened, for the server's registry. */
export async function loadRadiusClients(ctx: ValidatorContext): Promise<RadiusClient[]> {
  const rows = await ctx.database.db.selectFrom("radius_clients").selectAll().execute();
  return rows.map((row) => ({
    ...settingsOf(row),
    secret: ctx.vault.openRadiusSecret(row.name, { ciphertext: row.sealed_secret, keyId: row.key_id }),
  }));
}

/** A client's settings as stored. */
function settingsOf(row: Selectable<RadiusClientsTable>) {
  return {
    name: row.name,
    address: row.address,
    requireMessageAuthenticator: row.require_message_authenticator === 1,
    language: row.language as Language,
    prompts: row.prompts === null ? {} : (JSON.parse(row.prompts) as PromptOverrides),
  };
}
