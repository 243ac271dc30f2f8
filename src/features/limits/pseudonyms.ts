// A member's pseudonym: an HMAC of their id under a key of this install's (kept in the database's meta table,
// made by the migrator with the erasures table). What an erasure leaves in the usage ledger and the audit log instead of the member's id:
// the same member gets the same pseudonym, so today's allowances still count what they used before erasing,
// and /moderation log still groups their blocked prompts, but nothing names them without the key.
import { createHmac } from "node:crypto";
import type { MetaRepo } from "../../db/repositories/meta-repo.ts";

export const PSEUDONYM_KEY_META_KEY = "pseudonym_key";
/** Every pseudonym starts so: never a Discord id (digits only), so it cannot mention or match anyone. */
export const PSEUDONYM_PREFIX = "p:";

export class Pseudonyms {
  private key: Promise<Buffer> | undefined;

  constructor(private readonly meta: Pick<MetaRepo, "get">) {}

  /**
   * `meta`: the caller's transaction's, when it has one open (on SQLite a read outside it would wait for it to
   * end); the key is read once per process.
   */
  async of(userId: string, meta: Pick<MetaRepo, "get"> = this.meta): Promise<string> {
    const digest = createHmac("sha256", await this.secret(meta))
      .update(userId)
      .digest("base64url");
    return `${PSEUDONYM_PREFIX}${digest.slice(0, 32)}`;
  }

  /** The ids a member's ledger rows may carry: their own, and their pseudonym after an erasure. */
  async idsOf(userId: string, meta?: Pick<MetaRepo, "get">): Promise<string[]> {
    return [userId, await this.of(userId, meta)];
  }

  private secret(meta: Pick<MetaRepo, "get">): Promise<Buffer> {
    if (!this.key) {
      this.key = meta.get(PSEUDONYM_KEY_META_KEY).then((stored) => {
        if (!stored) throw new Error("the database has no pseudonym key (run the migrations)");
        return Buffer.from(stored, "base64url");
      });
      // A database that could not be read is asked again next time rather than remembered as failed.
      this.key.catch(() => {
        this.key = undefined;
      });
    }
    return this.key;
  }
}
