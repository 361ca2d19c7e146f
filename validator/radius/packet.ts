import type { Attribute } from "./attributes.js";

/** A RADIUS packet as on the wire (RFC 2865 §3): code, identifier, 16-byte authenticator, attributes. */
export interface Packet {
  code: number;
  identifier: number;
  authenticator: Buffer;
  attributes: Attribute[];
}

export const HEADER_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 253;

/** A packet as received: its fields, and its bytes up to its Length (what its authenticators cover). */
export interface ReceivedPacket extends Packet {
  bytes: Buffer;
}

export class MalformedPacket extends Error {}

/**
 * Reads a packet, refusing anything RFC 2865 says to discard: fewer bytes than the Length field, a
 * Length outside 20–4096, an attribute shorter than 2 bytes or running past the end. Bytes after
 * Length are padding and ignored (RFC 2865 §3).
 */
export function decodePacket(datagram: Buffer): ReceivedPacket {
  if (datagram.length < HEADER_LENGTH) throw new MalformedPacket("shorter than a header");
  const length = datagram.readUInt16BE(2);
  if (length < HEADER_LENGTH || length > MAX_PACKET_LENGTH) throw new MalformedPacket("length field out of range");
  if (datagram.length < length) throw new MalformedPacket("shorter than its length field");
  const attributes: Attribute[] = [];
  for (let offset = HEADER_LENGTH; offset < length; ) {
    if (offset + 2 > length) throw new MalformedPacket("truncated attribute header");
    const attributeLength = datagram[offset + 1]!;
    if (attributeLength < 2 || offset + attributeLength > length) throw new MalformedPacket("attribute length out of range");
    attributes.push({ type: datagram[offset]!, value: Buffer.from(datagram.subarray(offset + 2, offset + attributeLength)) });
    offset += attributeLength;
  }
  return {
    code: datagram[0]!,
    identifier: datagram[1]!,
    authenticator: Buffer.from(datagram.subarray(4, HEADER_LENGTH)),
    attributes,
    bytes: datagram.subarray(0, length),
  };
}

/** Writes a packet; the caller signs it afterwards (the authenticator is copied as given). */
export function encodePacket(packet: Packet): Buffer {
  let length = HEADER_LENGTH;
  for (const attribute of packet.attributes) {
    if (attribute.value.length > MAX_ATTRIBUTE_VALUE_LENGTH) throw new RangeError(`attribute ${attribute.type} is longer than 253 bytes`);
    length += attribute.value.length + 2;
  }
  if (length > MAX_PACKET_LENGTH) throw new RangeError("packet longer than 4096 bytes");
  if (packet.authenticator.length !== 16) throw new RangeError("an authenticator is 16 bytes");
  // One buffer written in place: a reply is encoded for every request, and a concatenation per attribute
  // cost as much as signing it.
  const bytes = Buffer.allocUnsafe(length);
  bytes[0] = packet.code;
  bytes[1] = packet.identifier;
  bytes.writeUInt16BE(length, 2);
  packet.authenticator.copy(bytes, 4, 0, 16);
  let offset = HEADER_LENGTH;
  for (const attribute of packet.attributes) {
    bytes[offset] = attribute.type;
    bytes[offset + 1] = attribute.value.length + 2;
    attribute.value.copy(bytes, offset + 2);
    offset += attribute.value.length + 2;
  }
  return bytes;
}

/** Splits a UTF-8 text into attribute-sized pieces, never inside a character. */
export function textAttributes(type: number, text: string): Attribute[] {
  const attributes: Attribute[] = [];
  let piece = "";
  for (const character of text) {
    if (Buffer.byteLength(piece + character) > MAX_ATTRIBUTE_VALUE_LENGTH) {
      attributes.push({ type, value: Buffer.from(piece) });
      piece = "";
    }
    piece += character;
  }
  if (piece !== "") attributes.push({ type, value: Buffer.from(piece) });
  return attributes;
}
