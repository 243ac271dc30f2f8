// The views of /reference, /library and /moderation log in every language the bot speaks, with the largest data
// their inputs allow: a translation is longer than English, and must still fit in one Discord message.
import { describe, expect, it } from "vitest";
import type { ImageWithOwner } from "../../../src/db/repositories/images-repo.ts";
import type { LibraryEntryWithImage } from "../../../src/db/repositories/library-repo.ts";
import type { VideoRow } from "../../../src/db/repositories/videos-repo.ts";
import {
  LIBRARY_PAGE_SIZE,
  renderLibraryEntry,
  renderLibraryPage,
} from "../../../src/discord/views/library.ts";
import type { RenderedMessage } from "../../../src/discord/views/message.ts";
import { AUDIT_PAGE_SIZE, renderAuditLog } from "../../../src/discord/views/moderation.ts";
import { LIST_PAGE_SIZE, renderImageInfo, renderImageList } from "../../../src/discord/views/references.ts";
import {
  MAX_LIBRARY_NAME_LENGTH,
  MAX_LIBRARY_NOTE_LENGTH,
} from "../../../src/features/library/library-service.ts";
import { inLocales, LOCALES, localeScope, tIn } from "../../../src/kit/i18n.ts";

const ID = "18446744073709551615";
const uuid = (n: number) => `${String(n).padStart(8, "0")}-ffff-4fff-bfff-ffffffffffff`;
const LATE = 253_402_300_799_000;
const heavy = (length: number) => "*_~|`>#-[]\\".repeat(length).slice(0, length);
const PROMPT = heavy(2000);

const image = (n: number): ImageWithOwner =>
  ({
    id: uuid(n),
    generationId: uuid(0),
    slot: 4,
    status: "succeeded",
    model: heavy(200),
    mime: "image/jpeg",
    bytes: 1_000_000_000_000,
    width: 100_000,
    height: 100_000,
    sha256: "f".repeat(64),
    createdAt: LATE,
    finishedAt: LATE,
    deletedAt: null,
    userId: ID,
    guildId: ID,
    prompt: PROMPT,
    params: JSON.stringify({ a: heavy(300) }),
  }) as ImageWithOwner;

const video = (n: number): VideoRow =>
  ({
    id: uuid(n),
    status: "running",
    model: heavy(100),
    prompt: PROMPT,
    params: JSON.stringify({
      durationSeconds: 10,
      aspectRatio: "16:9",
      endImageId: uuid(1),
      referenceImageIds: [uuid(2), uuid(3), uuid(4)],
    }),
  }) as VideoRow;

const entry = (n: number): LibraryEntryWithImage =>
  ({
    id: uuid(n),
    name: heavy(MAX_LIBRARY_NAME_LENGTH),
    imageId: uuid(n),
    note: heavy(MAX_LIBRARY_NOTE_LENGTH),
    ownerId: ID,
    addedBy: ID,
    createdAt: LATE,
    prompt: PROMPT,
  }) as LibraryEntryWithImage;

function fits(rendered: RenderedMessage | string): void {
  const { content, components } =
    typeof rendered === "string" ? { content: rendered, components: [] } : rendered;
  expect(content.length).toBeLessThanOrEqual(2000);
  for (const row of components)
    for (const b of row.components)
      expect(("label" in b ? (b.label ?? "") : "").length).toBeLessThanOrEqual(80);
}

describe.each(LOCALES.map((l) => [l]))("in %s", (locale) => {
  const render = <T>(fn: () => T) => inLocales(localeScope(locale, locale), fn);

  it("/reference info and list fit one message", () =>
    render(() => {
      const lineage = {
        parents: [{ imageId: uuid(1), deleted: true }],
        childCount: 1000,
        children: Array.from({ length: 5 }, () => ({
          generation: { createdAt: LATE, model: heavy(100), status: "partial" } as never,
          imageIds: [],
        })),
        videoCount: 1000,
        videos: Array.from({ length: 10 }, (_, n) => video(n)),
      };
      const names = Array.from({ length: 25 }, () => heavy(MAX_LIBRARY_NAME_LENGTH));
      fits(renderImageInfo(image(1), true, lineage, names, { preview: true }));
      const items = Array.from({ length: LIST_PAGE_SIZE }, (_, n) => image(n));
      fits(renderImageList({ items, page: 1000, pages: 1000, total: 10_000 }, ID, "1", () => LATE));
      fits(renderImageList({ items: [], page: 1, pages: 1, total: 0 }, ID, "1"));
    }));

  it("/library list and show fit one message", () =>
    render(() => {
      const items = Array.from({ length: LIBRARY_PAGE_SIZE }, (_, n) => entry(n));
      const page = renderLibraryPage({ items, page: 250_000, pages: 250_000, total: 1_000_000 });
      fits(page);
      expect(page.content).toContain(tIn(locale, "library:page.hint"));
      fits(renderLibraryEntry(entry(1)));
    }));

  it("/moderation log fits one message", () =>
    render(() => {
      const details = {
        prompt: PROMPT,
        entry: heavy(100),
        kind: "video",
        videos: 1_000_000,
        libraryNames: Array.from({ length: 25 }, () => heavy(MAX_LIBRARY_NAME_LENGTH)),
        name: heavy(MAX_LIBRARY_NAME_LENGTH),
        deleted: 1_000_000,
        change: PROMPT,
      };
      const actions = ["prompt_blocked", "reference_delete", "library_add", "library_remove", "purge"];
      const entries = Array.from({ length: AUDIT_PAGE_SIZE }, (_, n) => ({
        id: n,
        occurrences: 9999,
        guildId: ID,
        actorId: ID,
        action: actions[n % actions.length] as string,
        targetUserId: ID,
        targetId: uuid(n),
        details,
        createdAt: LATE,
      }));
      fits(
        renderAuditLog({ entries, hasOlder: true }, { filter: "prompt_blocked", memberId: ID, offset: 990 }),
      );
    }));
});
