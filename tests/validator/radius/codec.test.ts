import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { RadiusClient } from "../../../validator/operations/radius-clients.js";
import { AttributeType, PacketCode } from "../../../validator/radius/attributes.js";
import { ClientRegistry } from "../../../validator/radius/client-registry.js";
import { parseClientAddress } from "../../../validator/operations/radius-clients.js";
import { DecidedRequests } from "../../../validator/radius/decided-requests.js";
import { DuplicateCache } from "../../../validator/radius/duplicate-cache.js";
import { requestMessageAuthenticatorValid, signRequest } from "../../../validator/radius/message-authenticator.js";
import { decodePacket, encodePacket, MalformedPacket, textAttributes } from "../../../validator/radius/packet.js";
import { hidePassword, revealPassword } from "../../../validator/radius/user-password.js";

const client = (name: string, address: string): RadiusClient => ({ name, address, secret: Buffer.from("s"), requireMessageAuthenticator: true, language: "en", prompts: {} });

describe("RADIUS building blocks", () => {
  it("hides and reveals User-Password (RFC 2865 §5.2) for every length up to 128 bytes", () => {
    const secret = Buffer.from("a-shared-secret-of-some-length");
    for (const length of [0, 1, 15, 16, 17, 31, 32, 100, 128]) {
      const password = Buffer.alloc(length, 0x37);
      const authenticator = randomBytes(16);
      const hidden = hidePassword(password, secret, authenticator);
      expect(hidden.length % 16).toBe(0);
      expect(revealPassword(hidden, secret, authenticator)).toEqual(password);
      expect(revealPassword(hidden, Buffer.from("another-secret"), authenticator)).not.toEqual(password);
    }
    expect(revealPassword(Buffer.alloc(15), secret, randomBytes(16))).toBeNull();
    expect(revealPassword(Buffer.alloc(144), secret, randomBytes(16))).toBeNull();
  });

  it("refuses packets whose lengths lie, and ignores bytes after Length", () => {
    const packet = encodePacket({ code: PacketCode.AccessRequest, identifier: 1, authenticator: randomBytes(16), attributes: [{ type: AttributeType.UserName, value: Buffer.from("u") }] });
    expect(decodePacket(Buffer.concat([packet, Buffer.from([1, 2, 3])])).attributes).toHaveLength(1);
    expect(() => decodePacket(packet.subarray(0, packet.length - 1))).toThrow(MalformedPacket);
    const badAttribute = Buffer.from(packet);
    badAttribute[21] = 1;
    expect(() => decodePacket(badAttribute)).toThrow(MalformedPacket);
    const badLength = Buffer.from(packet);
    badLength.writeUInt16BE(19, 2);
    expect(() => decodePacket(badLength)).toThrow(MalformedPacket);
  });

  it("splits long texts into 253-byte Reply-Messages without cutting a character", () => {
    const text = "é".repeat(300);
    const parts = textAttributes(AttributeType.ReplyMessage, text);
    expect(parts.every((part) => part.value.length <= 253)).toBe(true);
    expect(Buffer.concat(parts.map((part) => part.value)).toString()).toBe(text);
  });

  it("checks a request's Message-Authenticator against the secret and the whole packet", () => {
    const secret = Buffer.from("shared-secret-0123");
    const signed = signRequest({ code: PacketCode.AccessRequest, identifier: 3, authenticator: randomBytes(16), attributes: [{ type: AttributeType.UserName, value: Buffer.from("u") }] }, secret);
    expect(requestMessageAuthenticatorValid(decodePacket(signed), secret)).toBe(true);
    expect(requestMessageAuthenticatorValid(decodePacket(signed), Buffer.from("other-secret-0123"))).toBe(false);
    const changed = Buffer.from(signed);
    changed[1] ^= 1;
    expect(requestMessageAuthenticatorValid(decodePacket(changed), secret)).toBe(false);
  });

  it("checks the Message-Authenticator over the bytes as received: wherever it sits, padding after Length excluded, one only", () => {
    const secret = Buffer.from("shared-secret-0123");
    const authenticator = randomBytes(16);
    const userName = { type: AttributeType.UserName, value: Buffer.from("u") };
    const slot = { type: AttributeType.MessageAuthenticator, value: Buffer.alloc(16) };
    // Signed by hand with the Message-Authenticator last (signRequest puts it first).
    const lastSigned = encodePacket({ code: PacketCode.AccessRequest, identifier: 4, authenticator, attributes: [userName, slot] });
    createHmac("md5", secret).update(lastSigned).digest().copy(lastSigned, lastSigned.length - 16);
    expect(requestMessageAuthenticatorValid(decodePacket(lastSigned), secret)).toBe(true);
    expect(requestMessageAuthenticatorValid(decodePacket(Buffer.concat([lastSigned, Buffer.from([9, 9, 9])])), secret)).toBe(true);

    const twice = encodePacket({ code: PacketCode.AccessRequest, identifier: 4, authenticator, attributes: [slot, userName, slot] });
    const value = createHmac("md5", secret).update(twice).digest();
    value.copy(twice, 22);
    value.copy(twice, twice.length - 16);
    expect(requestMessageAuthenticatorValid(decodePacket(twice), secret)).toBe(false);
  });

  it("follows a reload for the addresses it already matched", async () => {
    let clients = [client("campus", "10.0.0.0/8")];
    const registry = new ClientRegistry(async () => clients);
    await registry.refresh();
    expect(registry.match("10.1.2.3")?.name).toBe("campus");
    expect(registry.match("192.0.2.1")).toBeNull();
    clients = [client("vpn", "10.1.2.3/32"), client("lab", "192.0.2.0/24")];
    await registry.refresh();
    expect(registry.match("10.1.2.3")?.name).toBe("vpn");
    expect(registry.match("192.0.2.1")?.name).toBe("lab");
    expect(registry.match("10.9.9.9")).toBeNull();
  });

  it("matches the most specific client block, IPv4 seen as IPv4-mapped IPv6 included", async () => {
    const registry = new ClientRegistry(async () => [client("campus", "10.0.0.0/8"), client("vpn", "10.1.2.3/32"), client("v6", "2001:db8::/32")]);
    await registry.refresh();
    expect(registry.match("10.1.2.3")?.name).toBe("vpn");
    expect(registry.match("::ffff:10.1.2.3")?.name).toBe("vpn");
    expect(registry.match("10.200.0.1")?.name).toBe("campus");
    expect(registry.match("2001:db8:1::7")?.name).toBe("v6");
    expect(registry.match("11.0.0.1")).toBeNull();
    expect(registry.match("2001:db9::1")).toBeNull();
  });

  it("matches an address against the blocks of its own family only, and refuses IPv4-mapped blocks", async () => {
    const registry = new ClientRegistry(async () => [client("nas-v4", "10.1.0.0/16"), client("legacy", "::/24"), client("all-v6", "::/0")]);
    await registry.refresh();
    expect(registry.match("10.1.2.3")?.name).toBe("nas-v4");
    expect(registry.match("::ffff:10.9.9.9")).toBeNull();
    expect(registry.match("192.0.2.1")).toBeNull();
    expect(registry.match("2001:db8::1")?.name).toBe("all-v6");
    expect(() => parseClientAddress("::ffff:10.0.0.0/104")).toThrow(/write an IPv4 client's address as IPv4/);
  });

  it("remembers a reply for 30 s: pending while decided, then the same reply, then forgotten", () => {
    const cache = new DuplicateCache(30_000);
    const key = DuplicateCache.key("127.0.0.1", 5000, 7, Buffer.alloc(16, 1));
    expect(cache.claim(key, 0, "r").kind).toBe("new");
    expect(cache.claim(key, 10, "r").kind).toBe("pending");
    // Another request under the same address, port, identifier and authenticator gets nothing of this one.
    expect(cache.claim(key, 11, "another request").kind).toBe("mismatch");
    cache.complete(key, Buffer.from("reply"));
    expect(cache.claim(key, 29_999, "r")).toEqual({ kind: "reply", reply: Buffer.from("reply") });
    expect(cache.claim(DuplicateCache.key("127.0.0.1", 5001, 7, Buffer.alloc(16, 1)), 29_999, "r").kind).toBe("new");
    expect(cache.claim(key, 30_001, "r").kind).toBe("new");
  });

  it("the duplicate cache holds replies as copies of their own and within its byte bound, oldest out first", () => {
    const cache = new DuplicateCache(30_000, 100, 10_000);
    const pool = Buffer.alloc(64 * 1024, 7);
    for (let index = 0; index < 10; index++) {
      const key = DuplicateCache.key("127.0.0.1", 6000 + index, 1, Buffer.alloc(16, index));
      expect(cache.claim(key, 0, "r").kind).toBe("new");
      cache.complete(key, pool.subarray(index * 3000, (index + 1) * 3000));
    }
    expect(cache.size).toBe(3);
    expect(cache.heldBytes).toBe(9_000);
    const newest = cache.claim(DuplicateCache.key("127.0.0.1", 6009, 1, Buffer.alloc(16, 9)), 1, "r");
    expect(newest.kind).toBe("reply");
    const reply = (newest as { reply: Buffer }).reply;
    expect(reply.buffer.byteLength).toBe(3000);
    expect(cache.claim(DuplicateCache.key("127.0.0.1", 6000, 1, Buffer.alloc(16, 0)), 1, "r").kind).toBe("new");
  });

  it("remembers each client's decided Request Authenticators: a second one is a replay, until forgotten or expired", () => {
    const decided = new DecidedRequests(60_000, 1000);
    const authenticator = Buffer.alloc(16, 3);
    expect(decided.first("vpn1", authenticator, 0)).toBe(true);
    expect(decided.first("vpn1", authenticator, 59_999)).toBe(false);
    expect(decided.first("wifi", authenticator, 1)).toBe(true);
    decided.forget("wifi", authenticator);
    expect(decided.first("wifi", authenticator, 2)).toBe(true);
    expect(decided.first("vpn1", authenticator, 60_001)).toBe(true);
  });
});
