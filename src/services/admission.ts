// Whether a new job may start: the guild's prompt blocklist, one running job per member, and the daily
// allowances. Checked inside the transaction that records the job, so two quick requests cannot both pass.

import type { Clock } from "../domain/clock.ts";
import type { AuditRepo } from "../storage/audit-repo.ts";
import type { GuildSettingsRepo } from "../storage/guild-settings-repo.ts";
import type { UsageKind } from "../storage/usage-repo.ts";
import { checkPrompt } from "./prompt-policy.ts";
import type { QuotaService, Reservation } from "./quota.ts";

export type Refusal =
  | { reason: "blocked" }
  | { reason: "busy"; running: number; limit: number }
  | { reason: "quota"; detail: Extract<Reservation, { ok: false }> };

export type Admission = { ok: true } | ({ ok: false } & Refusal);

export interface AdmissionRequest {
  guildId: string | null;
  userId: string;
  prompt: string;
  kind: UsageKind;
  units: number;
  jobId: string;
  model: string;
}

export class AdmissionService {
  constructor(
    private readonly deps: {
      quota: QuotaService;
      settings: GuildSettingsRepo;
      audit: AuditRepo;
      /** The member's jobs still running, images and videos together. */
      runningJobs: (userId: string) => number;
      maxRunningPerUser: number;
      clock: Clock;
    },
  ) {}

  admit(request: AdmissionRequest): Admission {
    const { settings, audit, quota, clock } = this.deps;
    const blocklist = request.guildId ? settings.get(request.guildId).blocklist : [];
    const verdict = checkPrompt(request.prompt, blocklist);
    if (verdict.blocked) {
      audit.add({
        guildId: request.guildId,
        actorId: request.userId,
        action: "prompt_blocked",
        targetUserId: request.userId,
        targetId: null,
        details: { kind: request.kind, entry: verdict.entry, prompt: request.prompt.slice(0, 300) },
        createdAt: clock.now(),
      });
      return { ok: false, reason: "blocked" };
    }
    const running = this.deps.runningJobs(request.userId);
    if (running >= this.deps.maxRunningPerUser) {
      return { ok: false, reason: "busy", running, limit: this.deps.maxRunningPerUser };
    }
    const reservation = quota.reserve(request);
    return reservation.ok ? { ok: true } : { ok: false, reason: "quota", detail: reservation };
  }
}

/** Words for a member whose request was refused. */
export function describeRefusal(refusal: Refusal, made: "image" | "video"): string {
  switch (refusal.reason) {
    case "blocked":
      return "That description is not allowed in this server. Please describe something else.";
    case "busy":
      return `You already have ${refusal.running === 1 ? "a request" : `${refusal.running} requests`} running. Wait for it to finish, then try again.`;
    case "quota": {
      const { scope, used, limit, resetsAt, kind } = refusal.detail;
      const what = kind === "image" ? "images" : "videos";
      const left = Math.max(0, limit - used);
      const whose = scope === "guild" ? "This server's" : "Your";
      const where = scope === "everywhere" ? " across all servers and DMs" : "";
      return `${whose} daily allowance of ${limit} ${what}${where} ${left === 0 ? "is used up" : `has ${left} left, not enough for this ${made === "image" ? "request" : "video"}`}. It resets <t:${Math.floor(resetsAt / 1000)}:R>. /usage shows the details.`;
    }
  }
}
