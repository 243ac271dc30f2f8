// The image panel: what a member can do with one of their images (a picked one, or one /reference show shows).
import { type APIButtonComponent, ButtonStyle, ComponentType } from "discord.js";
import { t } from "../../kit/i18n.ts";
import { encodeCustomId, type ImageAction } from "../kit/custom-id.ts";
import type { Row } from "./message.ts";

const EMOJI: Record<ImageAction, string> = { upscale: "🔍", subtle: "🪶", strong: "🌀", sheet: "🧍" };

/** A button's label, in the language of the member the panel is shown to (it is only ever theirs). */
function label(action: ImageAction): string {
  switch (action) {
    case "upscale":
      return t("generation:panel.upscaleLabel");
    case "subtle":
      return t("generation:panel.subtleLabel");
    case "strong":
      return t("generation:panel.strongLabel");
    case "sheet":
      return t("generation:panel.sheetLabel");
  }
}

/** One row: Upscale, Vary (Subtle), Vary (Strong), Sheet, each for this image only. */
export function imagePanelRow(imageId: string): Row {
  const button = (action: ImageAction): APIButtonComponent => ({
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: label(action),
    emoji: { name: EMOJI[action] },
    custom_id: encodeCustomId({ handler: "img", action, imageId }),
  });
  return {
    type: ComponentType.ActionRow,
    components: [button("upscale"), button("subtle"), button("strong"), button("sheet")],
  };
}

/** The panel's one line of help, under a pick's confirmation or /reference show. */
export function imagePanelHint(): string {
  return t("generation:panel.hint");
}
