// Whether a new job may start: the guild's prompt blocklist, one running job per member, and the daily
// allowances. Checked inside the transaction that records the job (opened with the member's and the guild's
// locks), so two quick requests, in one process or in two, cannot both pass.

import type { Repos } from "../../db/repos.ts";
import type { UsageKind } from "../../db/repositories/usage-repo.ts";
import type { Clock } from "../../kit/clock.ts";
import { t } from "../../kit/i18n.ts";
import { PromptPolicy } from "./prompt-policy.ts";
import type { Pseudonyms } from "./pseudonyms.ts";
import { type QuotaService, type Reservation, utcDay } from "./quota.ts";

export type Refusal =
  /** `repeat`: the member had a prompt blocked within the minute before; only the first one is announced. */
  | {
      reason: "blocked";
      repeat: boolean /** The bot-wide list refused it (no server's settings apply). */;
      botWide?: boolean;
    }
  /** The reference a video was to be made from was deleted between the command and its recording. */
  | { reason: "gone" }
  | { reason: "busy"; running: number; limit: number }
  | { reason: "quota"; detail: Extract<Reservation, { ok: false }> };

export type Admission = { ok: true } | ({ ok: false } & Refusal);

export interface AdmissionRequest {
  guildId: string | null;
  userId: string;
  prompt: string;
  kind: UsageKind;
  units: number;
  /** A video's length: the ledger prices it per second. */
  seconds?: number | undefined;
  jobId: string;
  model: string;
}

/**
 * A member's blocked prompts within this long of the first share its audit row (counted there) and its one
 * mod-log post: someone retrying a blocked prompt cannot flood /moderation log or the mod-log channel.
 */
export const BLOCKED_REPEAT_WINDOW_MS = 60_000;

export class AdmissionService {
  /** The blocklist check, with the entries it has compiled kept for the next prompts. */
  private readonly promptPolicy = new PromptPolicy();

  constructor(
    private readonly deps: {
      quota: QuotaService;
      maxRunningPerUser: number;
      /** DEFAULT_BLOCKLIST: checked outside servers, and in a server with no settings of its own. */
      defaultBlocklist?: readonly string[];
      clock: Clock;
      /** Today's ledger rows of a member who erased their data carry their pseudonym: they still count. */
      pseudonyms: Pseudonyms;
    },
  ) {
    for (const entry of deps.defaultBlocklist ?? []) {
      const problem = this.promptPolicy.entryProblem(entry);
      if (problem) throw new Error(`DEFAULT_BLOCKLIST entry "${entry}": ${problem}`);
    }
  }

  /**
   * The `admit` callback a job's `create` takes: this request, with the job id and model the create chose, in
   * the create's transaction.
   */
  admitter(
    request: Omit<AdmissionRequest, "jobId" | "model">,
  ): (jobId: string, model: string, tx: Repos) => Promise<Admission> {
    return (jobId, model, tx) => this.admit({ ...request, jobId, model }, tx);
  }

  /**
   * Decides in the caller's transaction `tx`, which records the job when this says yes; the transaction must
   * hold the locks `admissionLocks` names. A blocked prompt's audit row is written (or counted) in it too: the
   * member's lock makes two blocked prompts within the minute one row, whichever process admits them.
   */
  async admit(request: AdmissionRequest, tx: Repos): Promise<Admission> {
    const { quota, clock } = this.deps;
    // Settings, running jobs and the day's sums in one statement (the transaction keeps the settings for the
    // allowances and the safety level read after it).
    const day = utcDay(clock.now());
    const ledgerIds = await this.deps.pseudonyms.idsOf(request.userId, tx.meta);
    const facts = await tx.admission.read(request.userId, ledgerIds, request.guildId, day, request.kind);
    // A server's own blocklist where it has settings; the bot-wide one elsewhere (DMs, a member's own install).
    const blocklist = facts.settings?.blocklist ?? this.deps.defaultBlocklist ?? [];
    const verdict = this.promptPolicy.check(request.prompt, blocklist);
    if (verdict.blocked) {
      const row = await tx.audit.addOrRepeat(
        {
          guildId: request.guildId,
          actorId: request.userId,
          action: "prompt_blocked",
          targetUserId: request.userId,
          targetId: null,
          details: { kind: request.kind, entry: verdict.entry, prompt: request.prompt.slice(0, 300) },
          createdAt: clock.now(),
        },
        BLOCKED_REPEAT_WINDOW_MS,
      );
      return {
        ok: false,
        reason: "blocked",
        repeat: row.occurrences > 1,
        ...(facts.settings ? {} : { botWide: true }),
      };
    }
    const { running } = facts;
    if (running >= this.deps.maxRunningPerUser) {
      return { ok: false, reason: "busy", running, limit: this.deps.maxRunningPerUser };
    }
    const reservation = await quota.reserve(request, tx, { day, used: facts.used });
    return reservation.ok ? { ok: true } : { ok: false, reason: "quota", detail: reservation };
  }
}

/**
 * The locks a transaction that admits a job takes (on PostgreSQL): the member's, and the guild's when there is
 * one, so two processes never both pass the member's running cap or spend the last unit of an allowance.
 */
export function admissionLocks(userId: string, guildId: string | null): string[] {
  return [`user:${userId}`, ...(guildId ? [`guild:${guildId}`] : [])];
}

/** Words for a member whose request was refused, in their language. */
export function describeRefusal(refusal: Refusal, made: "image" | "video"): string {
  switch (refusal.reason) {
    case "blocked":
      return t(refusal.botWide ? "limits:refusal.blockedBotWide" : "limits:refusal.blocked");
    case "gone":
      return t("limits:refusal.gone");
    case "busy":
      return t("limits:refusal.busy", { running: refusal.running });
    case "quota": {
      const { scope, used, limit, resetsAt, kind } = refusal.detail;
      const left = Math.max(0, limit - used);
      const values = { limit, kind, made, left, resetsAt: Math.floor(resetsAt / 1000) };
      if (scope === "guild") {
        return left === 0 ? t("limits:quota.guildUsedUp", values) : t("limits:quota.guildShort", values);
      }
      if (scope === "everywhere") {
        return left === 0
          ? t("limits:quota.everywhereUsedUp", values)
          : t("limits:quota.everywhereShort", values);
      }
      return left === 0 ? t("limits:quota.userUsedUp", values) : t("limits:quota.userShort", values);
    }
  }
}
