// Signed links to stored images and videos: `${PUBLIC_URL}/files/<uuid>?exp=…&sig=…`, served by the operations
// HTTP server. They let Discord users fetch what Discord cannot carry (a video over the upload limit, an
// original image) and let Replicate fetch a /video reference, without accounts: the signature is the
// permission, and it ends at `exp`.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { MetaRepo } from "../db/repositories/meta-repo.ts";
import { isUuid } from "../kit/ids.ts";

/** Where the generated key is kept when LINK_SECRET is unset: one per database, so every process agrees. */
export const LINK_SECRET_META_KEY = "link_secret";

export interface SignedLink {
  url: string;
  /** When the link stops working, epoch milliseconds (a whole second). */
  expiresAt: number;
}

export interface LinkSignerOptions {
  /** PUBLIC_URL without a trailing slash; unset: no links are made. */
  publicUrl: string | undefined;
  /** LINK_SECRET; unset: a random key made once and kept in the database's meta table. */
  secret: string | undefined;
  ttlMs: number;
  meta: MetaRepo;
}

export class LinkSigner {
  private key: Promise<Buffer> | undefined;

  constructor(private readonly options: LinkSignerOptions) {}

  /** Whether links can be made at all (PUBLIC_URL is set). */
  get enabled(): boolean {
    return this.options.publicUrl !== undefined;
  }

  /**
   * A link to the stored file of image or video `id`, valid for LINK_TTL_SECONDS from `now` (epoch ms), or
   * `atMostMs` when that is shorter (a data export's link). The
   * same `id` and `now` always give the same link, so a caller that signs from a fixed time (a video's
   * creation) sends the same input on every attempt. Undefined without PUBLIC_URL.
   */
  async sign(
    id: string,
    now: number,
    options: { atLeastMs?: number; atMostMs?: number } = {},
  ): Promise<SignedLink | undefined> {
    const base = this.options.publicUrl;
    if (base === undefined) return undefined;
    if (!isUuid(id)) throw new Error("only a stored file's UUID can be linked");
    const ttl = Math.min(Math.max(this.options.ttlMs, options.atLeastMs ?? 0), options.atMostMs ?? Infinity);
    const exp = Math.floor((now + ttl) / 1000);
    const sig = await this.signature(id, String(exp));
    return { url: `${base}/files/${id}?exp=${exp}&sig=${sig}`, expiresAt: exp * 1000 };
  }

  /**
   * Whether `sig` is this key's signature of `id` and `exp` and `exp` (epoch seconds) is still ahead of `now`
   * (epoch ms). Anything malformed is simply false; the comparison takes the same time wherever it differs.
   */
  async verify(id: string, exp: unknown, sig: unknown, now: number): Promise<boolean> {
    if (!isUuid(id) || typeof exp !== "string" || typeof sig !== "string") return false;
    if (!/^[0-9]{1,12}$/.test(exp) || Number(exp) * 1000 <= now) return false;
    const expected = Buffer.from(await this.signature(id, exp), "utf8");
    const given = Buffer.from(sig, "utf8");
    // timingSafeEqual needs equal lengths; a wrong length is compared against itself so it costs the same.
    if (given.length !== expected.length) {
      timingSafeEqual(expected, expected);
      return false;
    }
    return timingSafeEqual(given, expected);
  }

  private async signature(id: string, exp: string): Promise<string> {
    return createHmac("sha256", await this.secret())
      .update(`${id}.${exp}`)
      .digest("base64url");
  }

  /** The HMAC key: LINK_SECRET, or the database's, created on first use and read once per process. */
  private secret(): Promise<Buffer> {
    if (!this.key) {
      const configured = this.options.secret;
      this.key = configured
        ? Promise.resolve(Buffer.from(configured, "utf8"))
        : this.options.meta
            .getOrInsert(LINK_SECRET_META_KEY, randomBytes(32).toString("base64url"))
            .then((stored) => Buffer.from(stored, "base64url"));
      // A database that could not be read is asked again next time rather than remembered as failed.
      this.key.catch(() => {
        this.key = undefined;
      });
    }
    return this.key;
  }
}
