import { randomBytes, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { masterKeyFrom } from "../../../validator/secrets/master-key.js";
import { verifierChecks, VerifierKeyNotLoaded } from "../../../validator/secrets/verifiers.js";
import type { DatabaseLocation } from "../../../validator/storage/database.js";
import { openValidator } from "../../../validator/validator.js";
import { referenceCode, referenceStep } from "../../support/reference-totp.js";
import { dialects, startValidator, testDatabase, type RunningValidator } from "../../support/test-validator.js";

/** Every form in which a secret could leak into a dump. */
function forms(value: Buffer | string): string[] {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
  const base32 = (buffer: Buffer) => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = "";
    for (const byte of buffer) bits += byte.toString(2).padStart(8, "0");
    return (bits.match(/.{1,5}/g) ?? []).map((chunk) => alphabet[parseInt(chunk.padEnd(5, "0"), 2)]).join("");
  };
  return [bytes.toString("latin1"), bytes.toString("hex"), bytes.toString("hex").toUpperCase(), bytes.toString("base64"), bytes.toString("base64url"), base32(bytes)]
    .map((form) => form.replace(/=+$/, ""))
    .filter((form) => form.length >= 6);
}

describe.each(dialects)("secrets at rest on %s", (dialect) => {
  let v: RunningValidator;
  let drop: () => Promise<void>;
  let dump: () => Buffer;
  let location: DatabaseLocation;
  const seed = randomBytes(32);
  const pin = "583920";
  const used: (Buffer | string)[] = [seed, pin];

  beforeAll(async () => {
    const database = await testDatabase(dialect);
    drop = database.drop;
    v = await startValidator(database.location);
    location = database.location;
    dump = () =>
      location.kind === "sqlite"
        ? Buffer.concat([readFileSync(location.file), readFileSync(location.file + "-wal")])
        : execFileSync("pg_dump", ["--no-owner", location.url]);
    await v.request("POST", "/v1/tokens", { serial: "JT00000001", secretHex: seed.toString("hex") });
    await v.request("POST", "/v1/tokens/JT00000001/assign", { user: "jdupont" });
    const code = referenceCode(seed, referenceStep(v.clock.millis));
    used.push(code);
    const opened = await v.request("POST", "/v1/validate", { user: "jdupont", passcode: code }, "portal");
    await v.request("POST", "/v1/validate", { user: "jdupont", challenge: opened.json.challenge.id, response: pin }, "portal");
    v.clock.advance(60);
    const passcode = pin + referenceCode(seed, referenceStep(v.clock.millis));
    used.push(passcode);
    await v.request("POST", "/v1/validate", { user: "jdupont", passcode }, "portal");
    const emergency = (await v.request("POST", "/v1/users/jdupont/emergency", {}, "support")).json.password;
    used.push(emergency, pin + emergency);
    await v.request("POST", "/v1/validate", { user: "jdupont", passcode: pin + emergency }, "portal");
  });
  afterAll(async () => {
    await v?.close();
    await drop?.();
  });

  it("a dump holds no seed, PIN, passcode or emergency password in raw, hex, base32 or base64 form", () => {
    const text = dump().toString("latin1");
    expect(text).toContain("JT00000001");
    for (const secret of used) {
      for (const form of forms(secret)) expect(text.includes(form), `found a form of a secret: ${form.slice(0, 3)}…`).toBe(false);
    }
  });

  it("a PIN cannot be checked against the dump without the master key", async () => {
    const row = await v.ctx.database.db.selectFrom("users").select("pin_verifier").where("name", "=", "jdupont").executeTakeFirstOrThrow();
    const verifier = row.pin_verifier!;
    // With the right key the verifier matches; with any other key, or unkeyed hashing, it does not.
    expect(verifierChecks(masterKeyFrom(v.masterKey)).pinMatches("jdupont", pin, verifier)).toBe(true);
    // Another key cannot check it at all (the tag names the key it needs), nor with the tag taken off.
    expect(() => verifierChecks(masterKeyFrom(randomBytes(32))).pinMatches("jdupont", pin, verifier)).toThrow(VerifierKeyNotLoaded);
    expect(verifierChecks(masterKeyFrom(randomBytes(32))).pinMatches("jdupont", pin, verifier.replace(/^key:[0-9a-f]{12}:/, ""))).toBe(false);
    const unkeyed = createHmac("sha256", Buffer.alloc(32)).update(`pin\0jdupont\0${pin}`).digest("base64");
    expect(unkeyed).not.toBe(verifier);
  });

  it("refuses to open the database with another master key", async () => {
    await expect(openValidator({ database: location, masterKey: masterKeyFrom(randomBytes(32)) })).rejects.toThrow(
      /belongs to master key .* point JETON_MASTER_KEY_FILE/,
    );
  });

  it("seeds are sealed with AES-256-GCM under the master key, with its id stored for rotation", async () => {
    const row = await v.ctx.database.db.selectFrom("tokens").select(["sealed_secret", "key_id"]).where("serial", "=", "JT00000001").executeTakeFirstOrThrow();
    expect(row.key_id).toBe(masterKeyFrom(v.masterKey).id);
    expect(v.ctx.vault.open("JT00000001", { ciphertext: row.sealed_secret, keyId: row.key_id })).toEqual(seed);
    // Bound to its serial: the same sealed seed does not open for another token.
    expect(() => v.ctx.vault.open("JT00000002", { ciphertext: row.sealed_secret, keyId: row.key_id })).toThrow();
  });
});
