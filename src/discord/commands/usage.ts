// /usage: today's images and videos, used and left, for you and for the server, with an approximate cost (a
// video's: its model's price per second times its length).
import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import type { UsageLine } from "../../features/limits/quota.ts";
import { currentLocales, DEFAULT_LOCALE, t } from "../../kit/i18n.ts";
import { MOCK_MODEL, MOCK_REFERENCE_MODEL, MOCK_UPSCALE_MODEL } from "../../providers/mock/image-provider.ts";
import { MOCK_VIDEO_MODEL } from "../../providers/mock/video-provider.ts";
import { VIDEO_MODEL_IDS } from "../../providers/video-models.ts";
import type { Command } from "../kit/command.ts";
import { settingsGuildOf } from "../kit/delivery.ts";
import { NO_PINGS } from "../views/message.ts";

const counts = (u: UsageLine) => ({ used: u.used, limit: u.limit, remaining: u.remaining });
/** Images and videos used, of the limit, and left: one line's two halves. */
const usedLine = (images: UsageLine, videos: UsageLine) =>
  `${t("usage:images", counts(images))} · ${t("usage:videos", counts(videos))}`;

/**
 * US dollars as the member reads them: "$0.04" in English as it always was, the member's own way elsewhere
 * ("0,04 $" in German); `digits` fixes the decimals (estimates), else a price shows the decimals it has.
 */
function dollars(n: number, digits?: number): string {
  const locale = currentLocales().member;
  if (locale === DEFAULT_LOCALE) return `$${digits === undefined ? n : n.toFixed(digits)}`;
  const decimals = digits === undefined ? { maximumFractionDigits: 6 } : { minimumFractionDigits: digits };
  return new Intl.NumberFormat(locale, { style: "currency", currency: "USD", ...decimals }).format(n);
}
const estimate = (n: number) => t("usage:estimate", { cost: dollars(n, 2) });

/**
 * What each kind of work costs: new images, images drawn from a reference (Vary, Sheet, /character reference:),
 * upscales (an image against the allowances, at its own price), and videos per second of each model /video
 * offers (VIDEO_MODEL's first).
 */
function priceTable(ctx: AppContext): string {
  const { config } = ctx;
  const mock = config.imageProvider === "mock";
  const price = (model: string) => config.prices[model] ?? 0;
  const videoModels = mock
    ? [MOCK_VIDEO_MODEL]
    : [config.videoModel, ...VIDEO_MODEL_IDS.filter((id) => id !== config.videoModel)];
  const images = mock ? MOCK_MODEL : config.imageModel;
  const reference = mock ? MOCK_REFERENCE_MODEL : config.imageReferenceModel;
  const upscale = mock ? MOCK_UPSCALE_MODEL : config.upscale.model;
  return [
    t("usage:priceImages", { model: images, price: dollars(price(images)) }),
    t("usage:priceReference", { model: reference, price: dollars(price(reference)) }),
    t("usage:priceUpscale", { model: upscale, price: dollars(price(upscale)) }),
    t("usage:priceVideos", {
      models: videoModels
        .map((m) => t("usage:priceVideoModel", { model: m, price: dollars(Number(price(m).toFixed(4))) }))
        .join(", "),
    }),
  ].join(" · ");
}

export const usage: Command = {
  data: new SlashCommandBuilder()
    .setName("usage")
    .setDescription("Your images and videos today, and what is left")
    .toJSON(),

  async execute(interaction: ChatInputCommandInteraction, ctx: AppContext) {
    // Acknowledged before the database is read: it may be across a network, and Discord allows 3 s.
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const report = await ctx.quota.report(interaction.user.id, settingsGuildOf(interaction));
    const lines = [
      t("usage:title", { day: report.day, resetsAt: Math.floor(report.resetsAt / 1000) }),
      `${usedLine(report.user.images, report.user.videos)} · ${estimate(report.user.estimatedUsd)}`,
      t("usage:everywhereTitle"),
      usedLine(report.everywhere.images, report.everywhere.videos),
    ];
    if (report.guild) {
      lines.push(
        t("usage:serverTitle"),
        `${usedLine(report.guild.images, report.guild.videos)} · ${estimate(report.guild.estimatedUsd)}`,
      );
    }
    lines.push(t("usage:prices", { table: priceTable(ctx) }), t("usage:disclaimer"));
    await interaction.editReply({ content: lines.join("\n"), allowedMentions: NO_PINGS });
  },
};
