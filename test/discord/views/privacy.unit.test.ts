import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load.ts";
import { renderExportAnswer, renderPrivacyInfo } from "../../../src/discord/views/privacy.ts";
import { privacyFacts } from "../../../src/features/privacy/info.ts";

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
