/** RADIUS packet codes (RFC 2865 §3, RFC 5997). */
export const PacketCode = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccessChallenge: 11,
  StatusServer: 12,
} as const;

/** The attribute types this server reads or writes (RFC 2865 §5, RFC 2869 §5). */
export const AttributeType = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  NasIpAddress: 4,
  ReplyMessage: 18,
  State: 24,
  CallingStationId: 31,
  NasIdentifier: 32,
  ProxyState: 33,
  EapMessage: 79,
  MessageAuthenticator: 80,
  Prompt: 76,
} as const;

/** Prompt attribute values (RFC 2869 §5.10). */
export const PromptValue = { NoEcho: 0, Echo: 1 } as const;

export interface Attribute {
  type: number;
  value: Buffer;
}

/** Every value of `type`, in packet order. */
export function valuesOf(attributes: readonly Attribute[], type: number): Buffer[] {
  return attributes.filter((attribute) => attribute.type === type).map((attribute) => attribute.value);
}
