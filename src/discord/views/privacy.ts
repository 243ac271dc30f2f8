// /privacy's messages: what the bot keeps and who processes it (info), and the answers to an export.
import { EXPORT_COOLDOWN_MS, type ExportOutcome, type ExportSummary } from "../../features/privacy/export.ts";
import type { PrivacyFacts } from "../../features/privacy/info.ts";
import { t } from "../../kit/i18n.ts";
import { formatBytes, MAX_CONTENT, timestamp } from "./message.ts";

/** A size as formatBytes gives it, in bytes below a KiB (a lowered upload limit) and GiB from one (the cap). */
const size = (n: number) =>
  n < 1024
    ? t("privacy:export.bytes", { count: n })
    : n >= 1024 ** 3
      ? `${(n / 1024 ** 3).toFixed(1)} GiB`
      : formatBytes(n);

/** /privacy info: one message, within Discord's 2,000 characters whatever the settings. */
export function renderPrivacyInfo(facts: PrivacyFacts): string {
  const images = facts.imageRetentionDays
    ? t("privacy:info.imagesDeletedAfter", { days: facts.imageRetentionDays })
    : t("privacy:info.imagesKept");
  const lines = [
    t("privacy:info.title"),
    t("privacy:info.yourData", { images }),
    t("privacy:info.prompts", { days: facts.promptRetentionDays }),
    t("privacy:info.token", { minutes: facts.interactionTokenMinutes }),
    t("privacy:info.guild", { days: facts.guildGraceDays }),
    t("privacy:info.export", { hours: facts.exportLinkHours }),
    t("privacy:info.processorsTitle"),
    t("privacy:info.discord"),
    facts.usesReplicate ? t("privacy:info.replicate") : t("privacy:info.noModelService"),
    facts.objectStorage ? t("privacy:info.hostingS3") : t("privacy:info.hostingDisk"),
    t("privacy:info.actionsTitle"),
    t("privacy:info.exportCommand", { minutes: facts.exportCooldownMinutes }),
    t("privacy:info.deleteCommand"),
    t("privacy:info.referenceDeleteCommand"),
  ];
  if (facts.privacyPolicyUrl) lines.push(t("privacy:info.policy", { url: facts.privacyPolicyUrl }));
  const text = lines.join("\n");
  return text.length <= MAX_CONTENT ? text : `${text.slice(0, MAX_CONTENT - 1)}…`;
}

/** What the ZIP holds, and (when the caps were reached) what was left out and why. */
function contentsLine(summary: ExportSummary): string {
  const parts = [t("privacy:export.contents", { files: summary.files, size: size(summary.bytes) })];
  if (summary.omitted > 0) {
    parts.push(
      t("privacy:export.capped", {
        maxFiles: summary.maxFiles,
        maxSize: size(summary.maxBytes),
        omitted: summary.omitted,
      }),
    );
  }
  return parts.join("\n");
}

/** The answer to /privacy export, for every outcome. */
export function renderExportAnswer(outcome: ExportOutcome): string {
  switch (outcome.kind) {
    case "too_soon":
      return t("privacy:export.tooSoon", {
        minutes: EXPORT_COOLDOWN_MS / 60_000,
        retryAt: Math.ceil(outcome.retryAt / 1000),
      });
    case "busy":
      return t("privacy:export.busy");
    case "attachment":
      return t("privacy:export.attachment", { contents: contentsLine(outcome) });
    case "link":
      return t("privacy:export.link", {
        expiresAt: timestamp(outcome.expiresAt),
        contents: contentsLine(outcome),
      });
    case "too_large":
      return t("privacy:export.tooLarge", { size: size(outcome.bytes), limit: size(outcome.limit) });
  }
}
