// The image panel: what a member can do with one of their images (a picked one, or one /reference show shows).
import { type APIButtonComponent, ButtonStyle, ComponentType } from "discord.js";
import { encodeCustomId, type ImageAction } from "../kit/custom-id.ts";
import type { Row } from "./message.ts";

const LABELS: Record<ImageAction, { label: string; emoji: string }> = {
  upscale: { label: "Upscale", emoji: "🔍" },
  subtle: { label: "Vary (Subtle)", emoji: "🪶" },
  strong: { label: "Vary (Strong)", emoji: "🌀" },
  sheet: { label: "Sheet", emoji: "🧍" },
};

/** One row: Upscale, Vary (Subtle), Vary (Strong), Sheet, each for this image only. */
export function imagePanelRow(imageId: string): Row {
  const button = (action: ImageAction): APIButtonComponent => ({
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: LABELS[action].label,
    emoji: { name: LABELS[action].emoji },
    custom_id: encodeCustomId({ handler: "img", action, imageId }),
  });
  return {
    type: ComponentType.ActionRow,
    components: [button("upscale"), button("subtle"), button("strong"), button("sheet")],
  };
}

/** The panel's one line of help, under a pick's confirmation or /reference show. */
export const IMAGE_PANEL_HINT =
  "Upscale enlarges it; Vary (Subtle) keeps the picture and changes details; Vary (Strong) redraws the character freely; Sheet draws a front, three-quarter, side and back turnaround.";
