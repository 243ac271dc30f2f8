import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load.ts";
import { describeErased } from "../../../src/discord/flows/privacy-delete.ts";
import { renderExportAnswer, renderPrivacyInfo } from "../../../src/discord/views/privacy.ts";
import { privacyFacts } from "../../../src/features/privacy/info.ts";
import { inLocales, localeScope } from "../../../src/kit/i18n.ts";

describe("/privacy info", () => {
  it("names the retention, the processors, the commands and the policy, within one message", () => {
    const config = loadConfig({
      IMAGE_PROVIDER: "replicate",
      REPLICATE_API_TOKEN: "r8_test",
      STORAGE_URL: "s3://bucket/p",
      PRIVACY_POLICY_URL: `https://example.org/${"p".repeat(1500)}`,
    });
    const text = renderPrivacyInfo(privacyFacts(config));
    expect(text.length).toBeLessThanOrEqual(2000);
    for (const part of [
      "15 minutes",
      "30 days",
      "kept until you or a moderator delete them",
      "Replicate",
      "S3-compatible storage",
      "`/privacy export`",
      "`/privacy delete`",
      "`/reference delete id:<id>`",
    ]) {
      expect(text).toContain(part);
    }
  });

  it("tells the retention settings the install runs with", () => {
    const config = loadConfig({ IMAGE_PROVIDER: "mock", RETENTION_DAYS: "7", IMAGE_RETENTION_DAYS: "90" });
    const facts = privacyFacts(config, 3_600_000);
    expect(facts).toMatchObject({
      promptRetentionDays: 7,
      imageRetentionDays: 90,
      guildGraceDays: 30,
      exportLinkHours: 1,
    });
    const text = renderPrivacyInfo(facts);
    expect(text).toContain("deleted after 90 days");
    expect(text).toContain("No model service");
    expect(text).not.toContain("Privacy policy");
  });
});

describe("/privacy export's answers", () => {
  const summary = { bytes: 5 * 1024 * 1024, files: 500, omitted: 12, maxFiles: 500, maxBytes: 1024 ** 3 };
  it("names the caps when they were reached", () => {
    const text = renderExportAnswer({ kind: "attachment", path: "/tmp/x", ...summary });
    expect(text).toContain("at most 500 files and 1.0 GiB of them, newest first: 12 older files left out");
  });
  it("says what to do when the export is too large and there is no PUBLIC_URL", () => {
    const text = renderExportAnswer({ kind: "too_large", limit: 10 * 1024 * 1024, ...summary, omitted: 0 });
    expect(text).toContain("5.0 MiB, more than the 10.0 MiB");
    expect(text).toContain("no PUBLIC_URL set");
  });
});

describe("in the member's language", () => {
  const summary = { bytes: 700, files: 1, omitted: 1, maxFiles: 500, maxBytes: 1024 ** 3 };
  it("answers an export in German, singular and plural as German has them", () => {
    const text = inLocales(localeScope("de"), () =>
      renderExportAnswer({ kind: "attachment", path: "/tmp/x", ...summary }),
    );
    expect(text).toBe(
      "**Dein Datenexport**: 1 Bild oder Video und data.json (deine Prompts, Parameter, Herkunft, Auswahlen, Bibliotheksnamen und Nutzung), 700 Bytes.\n" +
        "Ein Export enthält höchstens 500 Dateien und 1.0 GiB davon, die neuesten zuerst: 1 ältere Datei wurde weggelassen (data.json führt sie weiterhin auf).",
    );
  });

  it("tells a Japanese member what the erasure removed, and an English one as before", () => {
    const counts = {
      generations: 2,
      images: 5,
      videos: 1,
      picks: 3,
      libraryEntries: 1,
      blockedPrompts: 0,
      ledgerRowsKept: 4,
      ledgerRowsDeleted: 9,
      uploads: 2,
      cancelled: 0,
    };
    const ja = inLocales(localeScope("ja", "de"), () => describeErased(counts));
    expect(ja).toContain("🗑️ あなたのデータを消去しました。");
    expect(ja).toContain("· 2件のリクエストの画像5枚、動画1本、選択3件");
    expect(describeErased(counts)).toContain("· 5 images from 2 requests, 1 videos, 3 picks");
  });
});
