import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { AttributeType } from "./attributes.js";
import { encodePacket, HEADER_LENGTH, type Packet, type ReceivedPacket } from "./packet.js";

const ZERO = Buffer.alloc(16);

/** Where each attribute of `type` starts in encoded packet bytes (their structure already checked). */
function offsetsOf(bytes: Buffer, type: number): number[] {
  const offsets: number[] = [];
  for (let offset = HEADER_LENGTH; offset < bytes.length; offset += bytes[offset + 1]!) {
    if (bytes[offset] === type) offsets.push(offset);
  }
  return offsets;
}

/** HMAC-MD5 over packet bytes whose Message-Authenticator value is zeroed (RFC 3579 §3.2). */
function messageAuthenticatorOf(zeroed: Buffer, secret: Buffer): Buffer {
  return createHmac("md5", secret).update(zeroed).digest();
}

/**
 * Whether a request's Message-Authenticator is right, compared in constant time. A request carrying
 * more than one, or one that is not 16 bytes, is wrong.
 */
export function requestMessageAuthenticatorValid(request: ReceivedPacket, secret: Buffer): boolean {
  const offsets = offsetsOf(request.bytes, AttributeType.MessageAuthenticator);
  if (offsets.length !== 1 || request.bytes[offsets[0]! + 1] !== 18) return false;
  const given = request.bytes.subarray(offsets[0]! + 2, offsets[0]! + 18);
  // Computed over the bytes as received, the value's slot zeroed in a copy.
  const zeroed = Buffer.from(request.bytes);
  ZERO.copy(zeroed, offsets[0]! + 2);
  return timingSafeEqual(given, messageAuthenticatorOf(zeroed, secret));
}

/**
 * Encodes `packet` with a zeroed Message-Authenticator as its first attribute (BlastRADIUS,
 * CVE-2024-3596), then writes into that slot the HMAC of these very bytes.
 */
function encodeSigned(packet: Packet, secret: Buffer): Buffer {
  const bytes = encodePacket({
    ...packet,
    attributes: [{ type: AttributeType.MessageAuthenticator, value: ZERO }, ...packet.attributes.filter((a) => a.type !== AttributeType.MessageAuthenticator)],
  });
  messageAuthenticatorOf(bytes, secret).copy(bytes, HEADER_LENGTH + 2);
  return bytes;
}

/**
 * Signs a reply: Message-Authenticator computed over the reply with the request authenticator in the
 * header, then the Response Authenticator (RFC 2865 §3) over the whole.
 */
export function signReply(reply: Omit<Packet, "authenticator">, requestAuthenticator: Buffer, secret: Buffer): Buffer {
  const bytes = encodeSigned({ ...reply, authenticator: requestAuthenticator }, secret);
  createHash("md5").update(bytes).update(secret).digest().copy(bytes, 4);
  return bytes;
}

/** Signs a request as a client does (Request Authenticator random, Message-Authenticator included): for tests and tools. */
export function signRequest(request: Packet, secret: Buffer): Buffer {
  return encodeSigned(request, secret);
}

/** Whether a reply's Response Authenticator matches the request it answers (for tests and tools). */
export function replyAuthenticatorValid(reply: Buffer, requestAuthenticator: Buffer, secret: Buffer): boolean {
  if (reply.length < HEADER_LENGTH) return false;
  const copy = Buffer.from(reply);
  requestAuthenticator.copy(copy, 4);
  return timingSafeEqual(createHash("md5").update(copy).update(secret).digest(), reply.subarray(4, 20));
}
