// Every repository, bound to one executor: the database (each call its own statement) or a transaction.
import { sql } from "kysely";
import type { Engine, Executor } from "./database.ts";
import { AdmissionReads } from "./repositories/admission-reads.ts";
import { AuditRepo } from "./repositories/audit-repo.ts";
import { DataExportsRepo } from "./repositories/data-exports-repo.ts";
import { ErasureScrub } from "./repositories/erasure-scrub.ts";
import { ErasuresRepo } from "./repositories/erasures-repo.ts";
import { GenerationsRepo } from "./repositories/generations-repo.ts";
import { GuildSettingsRepo } from "./repositories/guild-settings-repo.ts";
import { ImagesRepo } from "./repositories/images-repo.ts";
import { LateDeliveriesRepo } from "./repositories/late-deliveries-repo.ts";
import { LibraryRepo } from "./repositories/library-repo.ts";
import { MemberDataRepo } from "./repositories/member-data-repo.ts";
import { MetaRepo } from "./repositories/meta-repo.ts";
import { PendingDeletionsRepo } from "./repositories/pending-deletions-repo.ts";
import { PendingMessageEditsRepo } from "./repositories/pending-message-edits-repo.ts";
import { RetentionRepo } from "./repositories/retention-repo.ts";
import { SelectionsRepo } from "./repositories/selections-repo.ts";
import { UsageRepo } from "./repositories/usage-repo.ts";
import { VideosRepo } from "./repositories/videos-repo.ts";
import { WebhookDeliveriesRepo } from "./repositories/webhook-deliveries-repo.ts";

/** Advisory locks held until the transaction ends (PostgreSQL); SQLite runs one transaction at a time. */
export class Locks {
  constructor(
    private readonly db: Executor,
    private readonly engine: Engine,
  ) {}

  /**
   * Takes each lock in sorted order, all in one statement (one round trip, however many): the rows are locked
   * in the order of the ordered subquery, byte order of the names. Inside a transaction only: outside one they
   * would be released at once.
   */
  async take(keys: readonly string[]): Promise<void> {
    if (this.engine !== "postgres" || keys.length === 0) return;
    const names = [...new Set(keys)];
    await sql`SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))
      FROM (SELECT k FROM unnest(${names}::text[]) AS k ORDER BY k COLLATE "C") AS ordered`.execute(this.db);
  }
}

/** `inTransaction`: the repositories live as long as one transaction, so what it has read may be kept. */
export function makeRepos(db: Executor, engine: Engine, inTransaction = false) {
  const guildSettings = new GuildSettingsRepo(db, inTransaction);
  return {
    generations: new GenerationsRepo(db, engine),
    images: new ImagesRepo(db),
    selections: new SelectionsRepo(db),
    videos: new VideosRepo(db),
    usage: new UsageRepo(db),
    guildSettings,
    admission: new AdmissionReads(db, guildSettings),
    audit: new AuditRepo(db),
    library: new LibraryRepo(db),
    lateDeliveries: new LateDeliveriesRepo(db),
    meta: new MetaRepo(db),
    pendingDeletions: new PendingDeletionsRepo(db),
    pendingMessageEdits: new PendingMessageEditsRepo(db),
    webhookDeliveries: new WebhookDeliveriesRepo(db),
    erasures: new ErasuresRepo(db),
    erasureScrub: new ErasureScrub(db),
    retention: new RetentionRepo(db),
    dataExports: new DataExportsRepo(db),
    memberData: new MemberDataRepo(db),
    locks: new Locks(db, engine),
  };
}

export type Repos = ReturnType<typeof makeRepos>;
