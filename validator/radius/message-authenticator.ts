import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { AttributeType } from "./attributes.js";
import { encodePacket, HEADER_LENGTH, type Packet } from "./packet.js";

const ZERO = Buffer.alloc(16);

/** HMAC-MD5 over the packet with the Message-Authenticator value zeroed (RFC 3579 §3.2). */
function messageAuthenticatorOf(packet: Packet, authenticator: Buffer, secret: Buffer): Buffer {
  const zeroed = encodePacket({
    ...packet,
    authenticator,
    attributes: packet.attributes.map((attribute) =>
      attribute.type === AttributeType.MessageAuthenticator ? { type: attribute.type, value: ZERO } : attribute,
    ),
  });
  return createHmac("md5", secret).update(zeroed).digest();
}

/**
 * Whether a request's Message-Authenticator is right, compared in constant time. A request carrying
 * more than one, or one that is not 16 bytes, is wrong.
 */
export function requestMessageAuthenticatorValid(request: Packet, secret: Buffer): boolean {
  const values = request.attributes.filter((attribute) => attribute.type === AttributeType.MessageAuthenticator);
  if (values.length !== 1 || values[0]!.value.length !== 16) return false;
  return timingSafeEqual(values[0]!.value, messageAuthenticatorOf(request, request.authenticator, secret));
}

/**
 * Signs a reply: Message-Authenticator first (BlastRADIUS, CVE-2024-3596), computed over the reply with
 * the request authenticator in the header, then the Response Authenticator (RFC 2865 §3) over the whole.
 */
export function signReply(reply: Omit<Packet, "authenticator">, requestAuthenticator: Buffer, secret: Buffer): Buffer {
  const withSlot: Packet = {
    ...reply,
    authenticator: requestAuthenticator,
    attributes: [{ type: AttributeType.MessageAuthenticator, value: ZERO }, ...reply.attributes.filter((a) => a.type !== AttributeType.MessageAuthenticator)],
  };
  // Encoded once: the Message-Authenticator is the HMAC of these very bytes (its value zeroed), written
  // into its slot, the first attribute's value.
  const bytes = encodePacket(withSlot);
  createHmac("md5", secret).update(bytes).digest().copy(bytes, HEADER_LENGTH + 2);
  createHash("md5").update(bytes).update(secret).digest().copy(bytes, 4);
  return bytes;
}

/** Signs a request as a client does (Request Authenticator random, Message-Authenticator included): for tests and tools. */
export function signRequest(request: Packet, secret: Buffer): Buffer {
  const withSlot: Packet = { ...request, attributes: [...request.attributes.filter((a) => a.type !== AttributeType.MessageAuthenticator), { type: AttributeType.MessageAuthenticator, value: ZERO }] };
  const value = messageAuthenticatorOf(withSlot, request.authenticator, secret);
  return encodePacket({ ...withSlot, attributes: withSlot.attributes.map((a) => (a.type === AttributeType.MessageAuthenticator ? { type: a.type, value } : a)) });
}

/** Whether a reply's Response Authenticator matches the request it answers (for tests and tools). */
export function replyAuthenticatorValid(reply: Buffer, requestAuthenticator: Buffer, secret: Buffer): boolean {
  if (reply.length < HEADER_LENGTH) return false;
  const copy = Buffer.from(reply);
  requestAuthenticator.copy(copy, 4);
  return timingSafeEqual(createHash("md5").update(copy).update(secret).digest(), reply.subarray(4, 20));
}
