// A server's settings: allowance overrides, the prompt blocklist, the image safety level and the mod-log
// channel. Every change is saved together with its audit row, in one transaction.

import type { DataStore } from "../../db/data-store.ts";
import type { GuildSettings, GuildSettingsRepo } from "../../db/repositories/guild-settings-repo.ts";
import type { Clock } from "../../kit/clock.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { DEFAULT_LOCALE, type MessageValues, t, tIn } from "../../kit/i18n.ts";
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

/** Renders a message in some language: `t`, `tPublic`, or English for the audit log. */
export type Translate = (key: string, values?: MessageValues) => string;

const inEnglish: Translate = (key, values) => tIn(DEFAULT_LOCALE, key, values);

/** What a change does, in words: English for the audit row, the member's or the server's language to show. */
export function describeSettingsChange(change: SettingsChange, tr: Translate = inEnglish): string {
  switch (change.kind) {
    case "allowance": {
      const values = { what: change.what, scope: change.scope, perDay: change.perDay };
      return change.perDay === null
        ? tr("settings:change.allowanceDefault", values)
        : tr("settings:change.allowanceSet", values);
    }
    case "blocklist-add":
      return tr("settings:change.blocklistAdded");
    case "blocklist-remove":
      return tr("settings:change.blocklistRemoved");
    case "safety":
      return change.level
        ? tr("settings:change.safetySet", { level: change.level })
        : tr("settings:change.safetyDefault", { level: DEFAULT_SAFETY_FILTER_LEVEL });
    case "modlog":
      return change.channelId
        ? tr("settings:change.modLogSet", { channelId: change.channelId })
        : tr("settings:change.modLogCleared");
    case "curator":
      return change.roleId
        ? tr("settings:change.curatorSet", { roleId: change.roleId })
        : tr("settings:change.curatorCleared");
  }
}

/** Makes the change on `next` and says what it did, in English for the audit row. */
function apply(next: GuildSettings, change: SettingsChange, promptPolicy: PromptPolicy): string {
  switch (change.kind) {
    case "allowance":
      next[ALLOWANCE_FIELDS[`${change.what}:${change.scope}`]] = change.perDay;
      break;
    case "blocklist-add": {
      const problem = promptPolicy.entryProblem(change.entry, next.blocklist);
      if (problem) throw new UserFacingError(problem);
      if (next.blocklist.includes(change.entry))
        throw new UserFacingError(t("settings:errors.alreadyListed", { entry: change.entry }));
      if (next.blocklist.length >= MAX_BLOCKLIST_ENTRIES) {
        throw new UserFacingError(t("settings:errors.blocklistFull", { max: MAX_BLOCKLIST_ENTRIES }));
      }
      next.blocklist.push(change.entry);
      break;
    }
    case "blocklist-remove":
      if (!next.blocklist.includes(change.entry))
        throw new UserFacingError(t("settings:errors.notListed", { entry: change.entry }));
      next.blocklist = next.blocklist.filter((e) => e !== change.entry);
      break;
    case "safety":
      next.safetyFilterLevel = change.level;
      break;
    case "modlog":
      next.modLogChannelId = change.channelId;
      break;
    case "curator":
      next.curatorRoleId = change.roleId;
      break;
  }
  return describeSettingsChange(change);
}
