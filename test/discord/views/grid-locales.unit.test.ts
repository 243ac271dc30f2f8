// The grid in the server's language and what only the member sees in theirs: rendered through the views inside
// a locale scope as the router sets it, German and Japanese words checked, and every locale's largest grid
// still within Discord's limits.
import { describe, expect, it } from "vitest";
import type { GenerationRow } from "../../../src/db/repositories/generations-repo.ts";
import type { ImageRow } from "../../../src/db/repositories/images-repo.ts";
import { renderGrid, renderInterrupted, renderProgress } from "../../../src/discord/views/grid.ts";
import { imagePanelHint, imagePanelRow } from "../../../src/discord/views/image-panel.ts";
import type { RenderedMessage } from "../../../src/discord/views/message.ts";
import { renderRemixModal } from "../../../src/discord/views/remix.ts";
import { describeRefusal } from "../../../src/features/limits/admission.ts";
import { FAILURE_CODES, failureReason } from "../../../src/kit/failures.ts";
import { inLocales, LOCALES, localeScope } from "../../../src/kit/i18n.ts";

const ID = "18446744073709551615";
const uuid = (n: number) => `${String(n).padStart(8, "0")}-ffff-4fff-bfff-ffffffffffff`;
const MODEL = "google/imagen-4-ultra-with-a-long-successor-name";
const LATE = 253_402_300_799_000;

const generation = (prompt: string, overrides: Partial<GenerationRow> = {}): GenerationRow => ({
  id: uuid(0),
  guildId: ID,
  channelId: ID,
  userId: ID,
  interactionId: ID,
  interactionToken: "t",
  applicationId: ID,
  messageId: ID,
  prompt,
  params: { aspectRatio: "16:9" },
  model: MODEL,
  requested: 4,
  status: "partial",
  createdAt: LATE,
  finishedAt: LATE,
  deliveredAt: LATE,
  parentImageId: null,
  referenceUrl: null,
  locale: "de",
  publicLocale: "de",
  delivery: "channel",
  deliveredLaterAt: null,
  laterNoticeAt: null,
  ...overrides,
});

const image = (slot: number, overrides: Partial<ImageRow> = {}): ImageRow => ({
  id: uuid(slot),
  generationId: uuid(0),
  slot,
  status: "succeeded",
  model: MODEL,
  predictionId: "p",
  fileName: `${uuid(slot)}.png`,
  mime: "image/png",
  bytes: 1000,
  width: 1024,
  height: 1024,
  sha256: "f".repeat(64),
  errorCode: null,
  errorMessage: null,
  createdAt: LATE,
  finishedAt: LATE,
  deletedAt: null,
  deletedBy: null,
  ...overrides,
});

const labels = (m: RenderedMessage) =>
  m.components.flatMap((r) => r.components.map((b) => ("label" in b ? (b.label ?? "") : "")));

describe("a grid in the server's language", () => {
  it("renders a German grid, progress and buttons for a German server, whatever the member's language", () => {
    const view = { generation: generation("a fox"), images: [1, 2, 3, 4].map((s) => image(s)) };
    const { grid, progress, queued } = inLocales(localeScope("ja", "de"), () => ({
      grid: renderGrid(view),
      progress: renderProgress({ ...view, images: [image(1), image(2, { status: "running" })] }),
      queued: renderProgress(view, 3),
    }));
    expect(grid.content).toContain(`“a fox” für <@${ID}> · 16:9 · ${MODEL}`);
    expect(grid.content).toContain("Wähle deine Referenz mit den Schaltflächen 1, 2, 3, 4.");
    expect(labels(grid)).toEqual([
      "1",
      "2",
      "3",
      "4",
      "Variieren 1",
      "Variieren 2",
      "Variieren 3",
      "Variieren 4",
      "Neu erzeugen",
      "Remix",
    ]);
    expect(progress.content).toBe(`🎨 Zeichne 4 Bilder für <@${ID}>: “a fox”\n1/4 fertig…`);
    expect(queued.content).toContain("In der Warteschlange: 3 vor dir.");
  });

  it("says a failed slot, a removed image and a sheet's views in German", () => {
    const sheet = generation("a knight", {
      params: { aspectRatio: "3:4", studio: "sheet" },
      parentImageId: uuid(9),
    });
    const images = [
      image(1),
      image(2, { deletedAt: LATE, deletedBy: ID }),
      image(3, { status: "failed" }),
      image(4),
    ];
    const grid = inLocales(localeScope("de", "de"), () =>
      renderGrid({ generation: sheet, images }, { pickedSlot: 1 }),
    );
    expect(grid.content).toContain("Ansichtsblatt: 1 vorne · 4 hinten.");
    expect(grid.content).toContain(`Gezeichnet aus Referenz \`${uuid(9)}\` von ${MODEL}.`);
    expect(grid.content).toContain("Bild 1 ausgewählt.");
    expect(grid.content).toContain("Bild 2: von seinem Besitzer gelöscht.");
    expect(grid.content).toContain("Bild 3: fehlgeschlagen.");
    const interrupted = inLocales(localeScope("de", "de"), () =>
      renderInterrupted({ generation: sheet, images }),
    );
    expect(interrupted.content).toContain("⏸ Der Bot startet neu");
  });

  it("keeps English byte for byte outside any scope", () => {
    const grid = renderGrid({ generation: generation("a fox"), images: [image(1)] });
    expect(grid.content).toBe(
      `🎨 “a fox” for <@${ID}> · 16:9 · ${MODEL}\nPick your reference with the buttons 1.`,
    );
    expect(labels(grid)).toEqual(["1", "Vary 1", "Regenerate", "Remix"]);
  });

  it("fits Discord's limits in every locale with the largest grid", () => {
    const prompt = "*_~|`>#-[]\\".repeat(200);
    const failed = FAILURE_CODES.map((code, k) => image(k + 1, { status: "failed", errorCode: code }));
    const removed = [1, 2, 3, 4].map((s) => image(s, { deletedAt: LATE, deletedBy: uuid(7) }));
    for (const locale of LOCALES) {
      inLocales(localeScope(locale, locale), () => {
        for (const images of [[1, 2, 3, 4].map((s) => image(s)), failed, removed]) {
          const view = {
            generation: generation(prompt, { parentImageId: uuid(9) }),
            images,
            waitingOnStorage: [1, 2, 3, 4],
          };
          for (const m of [
            renderProgress(view, 1_000_000),
            renderInterrupted(view),
            renderGrid(view, { pickedSlot: 4, previews: true }),
          ]) {
            expect(m.content.length, locale).toBeLessThanOrEqual(2000);
            for (const label of labels(m)) expect(label.length).toBeLessThanOrEqual(80);
          }
        }
      });
    }
  });
});

describe("what only the member sees, in their language", () => {
  it("words the image panel, the Remix modal and a quota refusal in Japanese in a German server", () => {
    const { row, hint, modal, refusal } = inLocales(localeScope("ja", "de"), () => ({
      row: imagePanelRow(uuid(1)),
      hint: imagePanelHint(),
      modal: renderRemixModal({ id: uuid(0), prompt: "a fox" }),
      refusal: describeRefusal(
        {
          reason: "quota",
          detail: { ok: false, scope: "guild", used: 10, limit: 10, resetsAt: 86_400_000, kind: "image" },
        } as Parameters<typeof describeRefusal>[0],
        "image",
      ),
    }));
    expect(row.components.map((b) => ("label" in b ? b.label : undefined))).toEqual([
      "高解像度化",
      "バリエーション（弱）",
      "バリエーション（強）",
      "三面図",
    ]);
    expect(hint).toContain("三面図は正面・斜め・側面・背面を描きます。");
    expect(modal.title).toBe("リミックス");
    expect(modal.components[0]?.label).toBe("説明");
    expect(refusal).toBe(
      "このサーバーの1日あたりの画像の上限10件を使い切りました。<t:86400:R>にリセットされます。詳しくは/usageで確認できます。",
    );
  });
});

describe("why an image failed", () => {
  it("says in English what failureReason says for an image, and in German in a German server", () => {
    for (const code of FAILURE_CODES) {
      const view = {
        generation: generation("a fox"),
        images: [image(1), image(2, { status: "failed", errorCode: code })],
      };
      expect(renderGrid(view).content).toContain(`Image 2: ${failureReason(code, "image")}.`);
    }
    const view = {
      generation: generation("a fox"),
      images: [image(1), image(2, { status: "failed", errorCode: "safety_blocked" })],
    };
    expect(inLocales(localeScope("ja", "de"), () => renderGrid(view)).content).toContain(
      "Bild 2: vom Sicherheitsfilter des Modells blockiert; formuliere die Beschreibung um.",
    );
  });
});

describe("the safety notice", () => {
  it("tells a German server that a model could not apply its level, in German", () => {
    const view = {
      generation: generation("a fox", {
        params: { aspectRatio: "1:1", safetyFilterLevel: "block_only_high" },
      }),
      images: [image(1, { model: "google/nano-banana-2" })],
    };
    expect(inLocales(localeScope("ja", "de"), () => renderGrid(view)).content).toContain(
      "🛡️ Die Sicherheitsstufe block_only_high dieses Servers gilt nicht für Bilder von google/nano-banana-2: google/nano-banana-2 nutzt immer Googles eigenen festen Filter, den keine Einstellung ändert.",
    );
  });
});
