// A server's settings: allowance overrides, the prompt blocklist, the image safety level and the mod-log
// channel. Every change is saved together with its audit row, in one transaction.

import type { DataStore } from "../../db/data-store.ts";
import type { GuildSettings, GuildSettingsRepo } from "../../db/repositories/guild-settings-repo.ts";
import type { Clock } from "../../kit/clock.ts";
import { UserFacingError } from "../../kit/errors.ts";
import {
  asSafetyFilterLevel,
  DEFAULT_SAFETY_FILTER_LEVEL,
  type SafetyFilterLevel,
} from "../../providers/types.ts";
import { MAX_BLOCKLIST_ENTRIES, PromptPolicy } from "../limits/prompt-policy.ts";

export type AllowanceKind = "images" | "videos";
export type AllowanceScope = "member" | "server";

/** One change a moderator asks for. */
export type SettingsChange =
  | { kind: "allowance"; what: AllowanceKind; scope: AllowanceScope; perDay: number | null }
  | { kind: "blocklist-add"; entry: string }
  | { kind: "blocklist-remove"; entry: string }
  | { kind: "safety"; level: SafetyFilterLevel | null }
  | { kind: "modlog"; channelId: string | null }
  | { kind: "curator"; roleId: string | null };

const ALLOWANCE_FIELDS = {
  "images:member": "dailyImagesPerUser",
  "images:server": "dailyImagesPerGuild",
  "videos:member": "dailyVideosPerUser",
  "videos:server": "dailyVideosPerGuild",
} as const;

export class GuildSettingsService {
  /** Checks blocklist entries before they are added; keeps what it compiled for the next change. */
  private readonly promptPolicy = new PromptPolicy();

  constructor(private readonly deps: { data: DataStore; settings: GuildSettingsRepo; clock: Clock }) {}

  get(guildId: string): Promise<GuildSettings> {
    return this.deps.settings.get(guildId);
  }

  /** The level a server chose for the image safety filter; undefined where it chose none (or in DMs). */
  async safetyLevel(
    guildId: string | null,
    settings: GuildSettingsRepo = this.deps.settings,
  ): Promise<SafetyFilterLevel | undefined> {
    return guildId ? asSafetyFilterLevel((await settings.get(guildId)).safetyFilterLevel) : undefined;
  }

  /** Where the server wants moderator actions and blocked prompts posted, if anywhere. */
  async modLogChannel(guildId: string | null): Promise<string | null> {
    return guildId ? (await this.deps.settings.get(guildId)).modLogChannelId : null;
  }

  /**
   * Applies a change, with its audit row, in one transaction. Refuses with a UserFacingError a change that
   * cannot be made (a bad or duplicate blocklist entry, a full blocklist, an entry that is not there).
   */
  change(
    guildId: string,
    actorId: string,
    change: SettingsChange,
  ): Promise<{ settings: GuildSettings; summary: string }> {
    const { data, clock } = this.deps;
    return data.transaction(
      async (tx) => {
        const current = await tx.guildSettings.get(guildId);
        const next: GuildSettings = { ...current, blocklist: [...current.blocklist] };
        const summary = apply(next, change, this.promptPolicy);
        const now = clock.now();
        await tx.guildSettings.save(next, actorId, now);
        await tx.audit.add({
          guildId,
          actorId,
          action: `settings_${change.kind}`,
          targetUserId: null,
          targetId: null,
          details: { change: summary },
          createdAt: now,
        });
        return { settings: next, summary };
      },
      { locks: [`guild:${guildId}`] },
    );
  }
}

/** Makes the change on `next` and says what it did, in words for the mod-log. */
function apply(next: GuildSettings, change: SettingsChange, promptPolicy: PromptPolicy): string {
  switch (change.kind) {
    case "allowance": {
      const key = `${change.what}:${change.scope}` as const;
      next[ALLOWANCE_FIELDS[key]] = change.perDay;
      return `${change.what} per ${change.scope} allowance ${change.perDay === null ? "back to the default" : `set to ${change.perDay} a day`}`;
    }
    case "blocklist-add": {
      const problem = promptPolicy.entryProblem(change.entry, next.blocklist);
      if (problem) throw new UserFacingError(problem);
      if (next.blocklist.includes(change.entry))
        throw new UserFacingError(`\`${change.entry}\` is already on the blocklist.`);
      if (next.blocklist.length >= MAX_BLOCKLIST_ENTRIES) {
        throw new UserFacingError(
          `The blocklist holds at most ${MAX_BLOCKLIST_ENTRIES} entries; remove some first.`,
        );
      }
      next.blocklist.push(change.entry);
      return "blocklist entry added";
    }
    case "blocklist-remove":
      if (!next.blocklist.includes(change.entry))
        throw new UserFacingError(`\`${change.entry}\` is not on the blocklist.`);
      next.blocklist = next.blocklist.filter((e) => e !== change.entry);
      return "blocklist entry removed";
    case "safety":
      next.safetyFilterLevel = change.level;
      return change.level
        ? `safety filter set to ${change.level}`
        : `safety filter back to the default (${DEFAULT_SAFETY_FILTER_LEVEL})`;
    case "modlog":
      next.modLogChannelId = change.channelId;
      return change.channelId ? `mod-log channel set to <#${change.channelId}>` : "mod-log channel cleared";
    case "curator":
      next.curatorRoleId = change.roleId;
      return change.roleId
        ? `library curator role set to <@&${change.roleId}>`
        : "library curator role cleared";
  }
}
