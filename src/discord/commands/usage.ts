// /usage: today's images and videos, used and left, for you and for the server, with an approximate cost (a
// video's: its model's price per second times its length).
import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from "discord.js";
import type { AppContext } from "../../features/context.ts";
import type { UsageLine } from "../../features/limits/quota.ts";
import { MOCK_MODEL, MOCK_REFERENCE_MODEL, MOCK_UPSCALE_MODEL } from "../../providers/mock/image-provider.ts";
import { MOCK_VIDEO_MODEL } from "../../providers/mock/video-provider.ts";
import { VIDEO_MODEL_IDS } from "../../providers/video-models.ts";
import type { Command } from "../kit/command.ts";
import { NO_PINGS } from "../views/message.ts";

const line = (label: string, u: UsageLine) => `${label}: ${u.used} of ${u.limit} (${u.remaining} left)`;
const usd = (n: number) => `about $${n.toFixed(2)}`;

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
    `images ${images} ($${price(images)} an image)`,
    `Vary, Sheet and /character reference: ${reference} ($${price(reference)} an image)`,
    `Upscale ${upscale} ($${price(upscale)} an image)`,
    `videos ${videoModels.map((m) => `${m} $${Number(price(m).toFixed(4))} a second`).join(", ")}`,
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
    const report = await ctx.quota.report(interaction.user.id, interaction.guildId);
    const lines = [
      `**Your use today** (${report.day}, UTC; resets <t:${Math.floor(report.resetsAt / 1000)}:R>)`,
      `${line("Images", report.user.images)} · ${line("Videos", report.user.videos)} · ${usd(report.user.estimatedUsd)}`,
      "**You in all servers and DMs today** (the bot-wide limit)",
      `${line("Images", report.everywhere.images)} · ${line("Videos", report.everywhere.videos)}`,
    ];
    if (report.guild) {
      lines.push(
        "**This server today**",
        `${line("Images", report.guild.images)} · ${line("Videos", report.guild.videos)} · ${usd(report.guild.estimatedUsd)}`,
      );
    }
    lines.push(
      `**Prices** (approximate): ${priceTable(ctx)}`,
      "Costs are estimates from an approximate price table; Replicate's bill is the truth.",
    );
    await interaction.editReply({ content: lines.join("\n"), allowedMentions: NO_PINGS });
  },
};
