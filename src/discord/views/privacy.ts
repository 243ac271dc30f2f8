// /privacy's messages: what the bot keeps and who processes it (info), and the answers to an export.
import { EXPORT_COOLDOWN_MS, type ExportOutcome, type ExportSummary } from "../../features/privacy/export.ts";
import type { PrivacyFacts } from "../../features/privacy/info.ts";
import { formatBytes, MAX_CONTENT, timestamp } from "./message.ts";

/** A size as formatBytes gives it, in bytes below a KiB (a lowered upload limit) and GiB from one (the cap). */
const size = (n: number) =>
  n < 1024 ? `${n} bytes` : n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : formatBytes(n);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** /privacy info: one message, within Discord's 2,000 characters whatever the settings. */
export function renderPrivacyInfo(facts: PrivacyFacts): string {
  const images = facts.imageRetentionDays
    ? `deleted after ${plural(facts.imageRetentionDays, "day")}, or sooner when you delete them`
    : "kept until you or a moderator delete them";
  const lines = [
    "**What this bot keeps about you**",
    `• Your prompts and their settings, the images and videos made for you (with their lineage), your picks, the library names given to your images, and a ledger of what you used each day (for the daily limits): ${images}.`,
    `• Prompts that failed or were blocked, and the prompt text in the moderators' audit log: ${plural(facts.promptRetentionDays, "day")}.`,
    `• Discord's interaction token for a reply (to update it while your images land): ${facts.interactionTokenMinutes} minutes.`,
    `• A server's data, once the bot is removed from that server: ${plural(facts.guildGraceDays, "day")}, then deleted.`,
    `• An export you ask for: only while its download link works (${plural(facts.exportLinkHours, "hour")}).`,
    "**Who processes it**",
    "• Discord carries your commands and the bot's messages.",
    facts.usesReplicate
      ? "• Replicate runs the image and video models: it receives your prompts and the images you draw from."
      : "• No model service: this bot draws with an offline stand-in, so nothing is sent to one.",
    `• The operator's hosting keeps the database and the files (${facts.objectStorage ? "in S3-compatible storage" : "on the bot's own disk"}).`,
    "**What you can do**",
    `• \`/privacy export\`: a ZIP of all of it, sent only to you (one every ${plural(facts.exportCooldownMinutes, "minute")}).`,
    "• `/privacy delete`: delete everything the bot keeps about you.",
    "• `/reference delete id:<id>`: delete one image and the videos made from it.",
  ];
  if (facts.privacyPolicyUrl) lines.push(`Privacy policy: <${facts.privacyPolicyUrl}>`);
  const text = lines.join("\n");
  return text.length <= MAX_CONTENT ? text : `${text.slice(0, MAX_CONTENT - 1)}…`;
}

/** What the ZIP holds, and (when the caps were reached) what was left out and why. */
function contentsLine(summary: ExportSummary): string {
  const parts = [
    `${plural(summary.files, "image or video", "images and videos")} and data.json (your prompts, parameters, lineage, picks, library names and usage), ${size(summary.bytes)}.`,
  ];
  if (summary.omitted > 0) {
    parts.push(
      `An export carries at most ${summary.maxFiles} files and ${size(summary.maxBytes)} of them, newest first: ${plural(summary.omitted, "older file")} left out (data.json still lists ${summary.omitted === 1 ? "it" : "them"}).`,
    );
  }
  return parts.join("\n");
}

/** The answer to /privacy export, for every outcome. */
export function renderExportAnswer(outcome: ExportOutcome): string {
  switch (outcome.kind) {
    case "too_soon":
      return `You can ask for one data export every ${EXPORT_COOLDOWN_MS / 60_000} minutes; try again <t:${Math.ceil(outcome.retryAt / 1000)}:R>.`;
    case "busy":
      return "Several data exports are being built right now; try again in a minute.";
    case "attachment":
      return `**Your data export**: ${contentsLine(outcome)}`;
    case "link":
      return `**Your data export** is larger than Discord lets the bot upload here, so it is behind the button below until ${timestamp(outcome.expiresAt)}, then deleted: ${contentsLine(outcome)}`;
    case "too_large":
      return `Your data export is ${size(outcome.bytes)}, more than the ${size(outcome.limit)} Discord lets the bot upload here, and this bot has no PUBLIC_URL set, so it cannot give you a download link. Ask the bot's operator to set PUBLIC_URL, or delete some images with \`/reference delete\` and try again later.`;
  }
}
