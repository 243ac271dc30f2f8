// Every message the bot renders fits Discord's limits with the largest data its inputs allow: checked with
// Discord's own schemas (discord-api-spec) and, for each length limit, explicitly.
import {
  ApplicationCommandAutocompleteCallbackRequestSchema,
  IncomingWebhookUpdateRequestPartialSchema,
  MessageCreateRequestSchema,
} from "discord-api-spec/zod";
import { describe, expect, it } from "vitest";
import type { GenerationRow } from "../../../src/db/repositories/generations-repo.ts";
import type { ImageRow, ImageWithOwner } from "../../../src/db/repositories/images-repo.ts";
import type { LibraryEntryWithImage } from "../../../src/db/repositories/library-repo.ts";
import type { VideoRow } from "../../../src/db/repositories/videos-repo.ts";
import { referenceChoices } from "../../../src/discord/kit/reference-autocomplete.ts";
import { renderGrid, renderInterrupted, renderProgress } from "../../../src/discord/views/grid.ts";
import {
  LIBRARY_PAGE_SIZE,
  renderLibraryEntry,
  renderLibraryPage,
} from "../../../src/discord/views/library.ts";
import { linkButtonRow, type RenderedMessage } from "../../../src/discord/views/message.ts";
import { AUDIT_PAGE_SIZE, renderAuditLog } from "../../../src/discord/views/moderation.ts";
import { LIST_PAGE_SIZE, renderImageInfo, renderImageList } from "../../../src/discord/views/references.ts";
import {
  renderBlocklistPage,
  renderSettings,
  renderSettingsSaved,
} from "../../../src/discord/views/settings.ts";
import {
  renderVideoDone,
  renderVideoProgress,
  renderVideoRemoved,
} from "../../../src/discord/views/video.ts";
import type { AppContext } from "../../../src/features/context.ts";
import { MAX_PROMPT_LENGTH } from "../../../src/features/generation/generation-service.ts";
import {
  MAX_LIBRARY_NAME_LENGTH,
  MAX_LIBRARY_NOTE_LENGTH,
} from "../../../src/features/library/library-service.ts";
import { MAX_BLOCKLIST_ENTRIES, MAX_ENTRY_LENGTH } from "../../../src/features/limits/prompt-policy.ts";
import { FAILURE_CODES } from "../../../src/kit/failures.ts";

/** The longest snowflake there is (2^64 − 1): user, guild, channel and role ids. */
const ID = "18446744073709551615";
const UUID = "ffffffff-ffff-4fff-bfff-ffffffffffff";
const uuid = (n: number) => `${String(n).padStart(8, "0")}-ffff-4fff-bfff-ffffffffffff`;
const MODEL = "google/imagen-4-ultra-with-a-long-successor-name";
const LATE = 253_402_300_799_000; // 9999-12-31: the longest timestamp tag
/** Text that grows most when shown: every character one that markdown escaping doubles, and a backtick. */
const markdownHeavy = (length: number) => "*_~|`>#-[]\\".repeat(length).slice(0, length);
/** A prompt at the limit once normalised, and one twice as long (the raw option, before cleaning). */
const PROMPTS = [markdownHeavy(MAX_PROMPT_LENGTH), markdownHeavy(2 * MAX_PROMPT_LENGTH)];

const LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  embedTotal: 6000,
  rows: 5,
  buttonsPerRow: 5,
  label: 80,
  customId: 100,
  choices: 25,
  choiceName: 100,
  choiceValue: 100,
};

interface Embed {
  title?: string;
  description?: string;
  footer?: { text?: string };
  author?: { name?: string };
  fields?: Array<{ name: string; value: string }>;
}
interface Component {
  type: number;
  label?: string;
  custom_id?: string;
  url?: string;
  components?: Component[];
}
type Message = { content?: string; components?: readonly unknown[]; embeds?: Embed[] };

/** Every limit a message breaks, in words; empty when it fits. */
function limitProblems(message: Message): string[] {
  const problems: string[] = [];
  const over = (what: string, length: number, max: number) => {
    if (length > max) problems.push(`${what} is ${length}, over ${max}`);
  };
  over("content", message.content?.length ?? 0, LIMITS.content);
  const embeds = message.embeds ?? [];
  over("embeds", embeds.length, LIMITS.embeds);
  let embedTotal = 0;
  for (const e of embeds) {
    over("embed title", e.title?.length ?? 0, LIMITS.embedTitle);
    over("embed description", e.description?.length ?? 0, LIMITS.embedDescription);
    over("embed fields", e.fields?.length ?? 0, LIMITS.embedFields);
    for (const f of e.fields ?? []) {
      over("field name", f.name.length, LIMITS.fieldName);
      over("field value", f.value.length, LIMITS.fieldValue);
    }
    embedTotal += [
      e.title,
      e.description,
      e.footer?.text,
      e.author?.name,
      ...(e.fields ?? []).flatMap((f) => [f.name, f.value]),
    ].reduce((sum, s) => sum + (s?.length ?? 0), 0);
  }
  over("embeds' total", embedTotal, LIMITS.embedTotal);
  const rows = (message.components ?? []) as Component[];
  over("action rows", rows.length, LIMITS.rows);
  for (const row of rows) {
    over("buttons in a row", row.components?.length ?? 0, LIMITS.buttonsPerRow);
    for (const c of row.components ?? []) {
      over(`label ${c.label}`, c.label?.length ?? 0, LIMITS.label);
      over(`custom_id ${c.custom_id}`, c.custom_id?.length ?? 0, LIMITS.customId);
    }
  }
  return problems;
}

/** Schema complaints about a body, as the edit of an interaction's reply and as a channel message. */
function schemaProblems(message: Message): string[] {
  const body = { ...message, allowed_mentions: { parse: [] } };
  return [IncomingWebhookUpdateRequestPartialSchema, MessageCreateRequestSchema].flatMap((schema) => {
    const result = schema.safeParse(body);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  });
}

function expectFits(name: string, rendered: RenderedMessage | string): void {
  const message: Message = typeof rendered === "string" ? { content: rendered } : rendered;
  expect([...limitProblems(message), ...schemaProblems(message)], name).toEqual([]);
}

const generation = (prompt: string, parentImageId: string | null = UUID): GenerationRow => ({
  id: UUID,
  guildId: ID,
  channelId: ID,
  userId: ID,
  interactionId: ID,
  interactionToken: "t".repeat(200),
  applicationId: ID,
  messageId: ID,
  prompt,
  params: { aspectRatio: "16:9", safetyFilterLevel: "block_low_and_above" },
  model: MODEL,
  requested: 4,
  status: "partial",
  createdAt: LATE,
  finishedAt: LATE,
  deliveredAt: LATE,
  parentImageId,
  referenceUrl: `https://example.com/${"u".repeat(400)}`,
  locale: null,
  publicLocale: null,
  delivery: "channel",
  deliveredLaterAt: null,
  laterNoticeAt: null,
});

const imageRow = (slot: number, overrides: Partial<ImageRow> = {}): ImageRow => ({
  id: uuid(slot),
  generationId: UUID,
  slot,
  status: "succeeded",
  model: MODEL,
  predictionId: "p".repeat(40),
  fileName: `${uuid(slot)}.png`,
  mime: "image/jpeg",
  bytes: 1_000_000_000_000,
  width: 100_000,
  height: 100_000,
  sha256: "f".repeat(64),
  errorCode: null,
  errorMessage: "e".repeat(500),
  createdAt: LATE,
  finishedAt: LATE,
  deletedAt: null,
  deletedBy: null,
  ...overrides,
});

const imageWithOwner = (prompt: string, n = 1): ImageWithOwner => ({
  ...imageRow(n),
  userId: ID,
  guildId: ID,
  prompt,
  params: JSON.stringify(
    Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`parameter${k}`, markdownHeavy(40)])),
  ),
});

const video = (prompt: string, n: number, overrides: Partial<VideoRow> = {}): VideoRow => ({
  id: uuid(n),
  referenceImageId: UUID,
  generationId: UUID,
  guildId: ID,
  channelId: ID,
  userId: ID,
  prompt,
  model: MODEL,
  params: "{}",
  status: "succeeded",
  predictionId: "p".repeat(40),
  fileName: `${uuid(n)}.mp4`,
  mime: "video/mp4",
  bytes: 1_000_000_000_000,
  sha256: "f".repeat(64),
  outputUrl: `https://replicate.delivery/${"x".repeat(300)}/output.mp4`,
  errorCode: null,
  errorMessage: null,
  interactionId: ID,
  interactionToken: "t".repeat(200),
  applicationId: ID,
  messageId: ID,
  createdAt: 0,
  finishedAt: LATE,
  deliveredAt: LATE,
  deletedAt: null,
  deletedBy: null,
  locale: null,
  publicLocale: null,
  delivery: "channel",
  deliveredLaterAt: null,
  laterNoticeAt: null,
  ...overrides,
});

const libraryEntry = (prompt: string, n: number): LibraryEntryWithImage => ({
  id: uuid(n),
  guildId: ID,
  name: markdownHeavy(MAX_LIBRARY_NAME_LENGTH),
  nameKey: markdownHeavy(MAX_LIBRARY_NAME_LENGTH),
  thumbnailFile: null,
  imageId: uuid(n),
  note: markdownHeavy(MAX_LIBRARY_NOTE_LENGTH),
  addedBy: ID,
  createdAt: LATE,
  fileName: `${uuid(n)}.png`,
  prompt,
  ownerId: ID,
});

describe.each(PROMPTS.map((p) => [p.length, p] as const))(
  "every view with a %i-character prompt",
  (_, prompt) => {
    it("a generation's progress, grid and interruption", () => {
      const failed = FAILURE_CODES.map((code, k) => imageRow(k + 1, { status: "failed", errorCode: code }));
      const mixed = [
        imageRow(1),
        imageRow(2, { deletedAt: LATE, deletedBy: UUID }),
        imageRow(3, { status: "failed", errorCode: "storage_unavailable" }),
        imageRow(4),
      ];
      for (const images of [[1, 2, 3, 4].map((s) => imageRow(s)), mixed, failed]) {
        const view = { generation: generation(prompt), images, waitingOnStorage: [1, 2, 3, 4] };
        expectFits("progress", renderProgress(view, 1_000_000));
        expectFits("interrupted", renderInterrupted(view));
        expectFits("grid", renderGrid(view, { pickedSlot: 4, previews: true }));
        expectFits("grid, nothing picked", renderGrid(view));
      }
      const removed = [1, 2, 3, 4].map((s) => imageRow(s, { deletedAt: LATE, deletedBy: ID }));
      expectFits("grid, all removed", renderGrid({ generation: generation(prompt), images: removed }));
    });

    it("/reference info and show with 100 videos, 100 variations and 25 library names", () => {
      const lineage = {
        parents: Array.from({ length: 3 }, (_, n) => ({ imageId: uuid(n), deleted: n === 1 })),
        childCount: 100,
        children: Array.from({ length: 100 }, (_, n) => ({
          generation: generation(prompt),
          imageIds: [uuid(n), uuid(n + 1), uuid(n + 2), uuid(n + 3)],
        })),
        videoCount: 100,
        videos: Array.from({ length: 100 }, (_, n) => video(prompt, n, { status: "running" })),
      };
      const names = Array.from({ length: 25 }, () => markdownHeavy(MAX_LIBRARY_NAME_LENGTH));
      for (const preview of [false, true]) {
        const info = renderImageInfo(imageWithOwner(prompt), true, lineage, names, { preview });
        expectFits("reference info", {
          content: info,
          components: [linkButtonRow("Open original", `https://example.com/${"l".repeat(400)}`)],
        });
        expect(info).toContain("…and");
      }
      expectFits(
        "reference info, no lineage",
        renderImageInfo(imageWithOwner(prompt), false, undefined, names),
      );
      const empty = { parents: [], childCount: 0, children: [], videoCount: 0, videos: [] };
      expectFits("reference info, nothing made", renderImageInfo(imageWithOwner(prompt), false, empty));
    });

    it("/reference list", () => {
      const items = Array.from({ length: LIST_PAGE_SIZE }, (_, n) => imageWithOwner(prompt, n));
      for (const page of [1, 500, 1000]) {
        expectFits("reference list", renderImageList({ items, page, pages: 1000, total: 10_000 }, ID, "1"));
      }
      expectFits(
        "reference list, empty",
        renderImageList({ items: [], page: 1, pages: 1, total: 0 }, ID, "1"),
      );
    });

    it("/library list and show", () => {
      const items = Array.from({ length: LIBRARY_PAGE_SIZE }, (_, n) => libraryEntry(prompt, n));
      expectFits(
        "library page",
        renderLibraryPage({ items, page: 250_000, pages: 250_000, total: 1_000_000 }),
      );
      expectFits("library page, empty", renderLibraryPage({ items: [], page: 1, pages: 1, total: 0 }));
      expectFits("library entry", renderLibraryEntry(libraryEntry(prompt, 1)));
    });

    it("/video's progress, result, refusal and removal", () => {
      const v = video(prompt, 1);
      expectFits("video progress", renderVideoProgress(v, LATE, 1_000_000));
      expectFits("video progress, running", renderVideoProgress(v, LATE));
      for (const attached of [true, false]) {
        expectFits("video done", renderVideoDone(v, attached, 1_000_000_000, { expiresAt: LATE }));
        expectFits("video done, no link", renderVideoDone(v, attached, 1_000_000_000));
        expectFits("video done, no url", renderVideoDone({ ...v, outputUrl: null }, attached, 1));
      }
      for (const code of FAILURE_CODES) {
        expectFits("video failed", renderVideoDone({ ...v, status: "failed", errorCode: code }, false, 1));
      }
      expectFits("video removed", renderVideoRemoved({ ...v, deletedAt: LATE, deletedBy: UUID }));
    });

    it("/moderation log", () => {
      const details = {
        prompt,
        entry: markdownHeavy(MAX_ENTRY_LENGTH),
        kind: "video",
        videos: 1_000_000,
        libraryNames: Array.from({ length: 25 }, () => markdownHeavy(MAX_LIBRARY_NAME_LENGTH)),
        name: markdownHeavy(MAX_LIBRARY_NAME_LENGTH),
        deleted: 1_000_000,
        change: prompt,
      };
      const actions = [
        "prompt_blocked",
        "reference_delete",
        "library_add",
        "library_remove",
        "purge",
        "settings_safety",
        "x".repeat(200),
      ];
      const entries = Array.from({ length: AUDIT_PAGE_SIZE }, (_, n) => ({
        id: n + 1,
        occurrences: 9999,
        guildId: ID,
        actorId: ID,
        action: actions[n % actions.length] as string,
        targetUserId: ID,
        targetId: UUID,
        details,
        createdAt: LATE,
      }));
      const every = { filter: null, memberId: ID, offset: 990 };
      expectFits("audit log", renderAuditLog({ entries, hasOlder: true }, every));
      expectFits("audit log, empty", renderAuditLog({ entries: [], hasOlder: false }, every));
      // The longest page: blocked prompts only, each repeated thousands of times, with both filters named.
      const blocked = { filter: "prompt_blocked" as const, memberId: ID, offset: 990 };
      const repeats = entries.map((e) => ({ ...e, action: "prompt_blocked" }));
      expectFits("audit log, blocked prompts", renderAuditLog({ entries: repeats, hasOlder: true }, blocked));
    });
  },
);

describe("/settings", () => {
  const blocklist = Array.from({ length: MAX_BLOCKLIST_ENTRIES }, (_, n) =>
    `${n}${markdownHeavy(MAX_ENTRY_LENGTH)}`.slice(0, MAX_ENTRY_LENGTH),
  );
  const snapshot = {
    settings: {
      guildId: ID,
      dailyImagesPerUser: 1_000_000,
      dailyImagesPerGuild: 1_000_000,
      dailyVideosPerUser: null,
      dailyVideosPerGuild: null,
      blocklist,
      safetyFilterLevel: "block_medium_and_above",
      modLogChannelId: ID,
      curatorRoleId: ID,
    },
    allowances: {
      imagesPerUser: 1_000_000,
      imagesPerGuild: 1_000_000,
      videosPerUser: 1_000_000,
      videosPerGuild: 1_000_000,
    },
    cap: { images: 1_000_000, videos: 1_000_000 },
    safety: {
      level: "block_medium_and_above",
      isDefault: false,
      models: [
        { model: MODEL, role: "in use", effect: "e".repeat(300) },
        { model: MODEL, role: `used if Replicate retires ${MODEL}`, effect: "e".repeat(300) },
      ],
    },
  };

  it("view, every blocklist page and every saved change fit with 200 entries of the longest length", () => {
    expectFits("settings view", renderSettings(snapshot));
    expect(renderSettings(snapshot)).toContain(`…and `);
    expectFits(
      "settings view, empty blocklist",
      renderSettings({ ...snapshot, settings: { ...snapshot.settings, blocklist: [] } }),
    );
    for (let page = 0; page <= 10; page++)
      expectFits(`blocklist page ${page}`, renderBlocklistPage(blocklist, page));
    expectFits("blocklist, empty", renderBlocklistPage([], 1));
    const summary = `mod-log channel set to <#${ID}> ${"s".repeat(400)}`;
    expectFits("saved", renderSettingsSaved(summary, { entry: blocklist[0], safety: snapshot.safety }));
  });
});

describe("autocomplete", () => {
  it("offers at most 25 choices with names and values of at most 100 characters", async () => {
    for (const prompt of PROMPTS) {
      const items = Array.from({ length: 100 }, (_, n) => imageWithOwner(prompt, n));
      const named = Array.from({ length: 25 }, (_, n) => libraryEntry(prompt, n));
      const ctx = {
        references: { listImages: async () => ({ items, page: 1, pages: 1, total: items.length }) },
        library: { search: async () => named },
        clock: { now: () => LATE },
      } as unknown as AppContext;
      for (const typed of ["", "*"]) {
        const choices = await referenceChoices(ctx, { userId: ID, guildId: ID }, typed);
        expect(choices.length).toBeGreaterThan(0);
        expect(choices.length).toBeLessThanOrEqual(LIMITS.choices);
        for (const c of choices) {
          expect(c.name.length).toBeLessThanOrEqual(LIMITS.choiceName);
          expect(c.value.length).toBeLessThanOrEqual(LIMITS.choiceValue);
        }
        const body = { type: 8, data: { choices } };
        expect(ApplicationCommandAutocompleteCallbackRequestSchema.safeParse(body).success).toBe(true);
      }
    }
  });
});
