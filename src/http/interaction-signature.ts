// Discord's signature on an HTTP interaction: Ed25519 over `X-Signature-Timestamp + raw body`, with the
// application's public key (hex). Node's own crypto verifies it; nothing is parsed before it has.

import { createPublicKey, type KeyObject, verify } from "node:crypto";

/**
 * How far an interaction's timestamp may be from now. Discord signs each delivery as it sends it, so an old one
 * is a replay of a captured request: refused as unauthenticated, as a bad signature is.
 */
export const MAX_SIGNATURE_AGE_S = 5 * 60;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export class InteractionSignature {
  private readonly key: KeyObject;

  constructor(publicKeyHex: string) {
    this.key = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKeyHex, "hex").toString("base64url") },
      format: "jwk",
    });
  }

  check(
    signatureHex: string | undefined,
    timestamp: string | undefined,
    body: Buffer,
    nowMs: number,
  ): SignatureCheck {
    if (!signatureHex || !timestamp) return { ok: false, reason: "signature headers missing" };
    if (!/^[0-9a-fA-F]{128}$/.test(signatureHex)) return { ok: false, reason: "malformed signature" };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed timestamp" };
    const signed = Buffer.concat([Buffer.from(timestamp, "utf8"), body]);
    if (!verify(null, signed, this.key, Buffer.from(signatureHex, "hex")))
      return { ok: false, reason: "signature does not verify" };
    if (Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_SIGNATURE_AGE_S)
      return { ok: false, reason: "timestamp too far from now" };
    return { ok: true };
  }
}
