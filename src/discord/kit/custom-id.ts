// The one codec for component custom_ids: `<handler>:<action>:<arg>…`. State lives in SQLite, not here.
import {
  AUDIT_ACTION_FILTERS,
  type AuditActionFilter,
} from "../../features/moderation/moderation-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { t } from "../../kit/i18n.ts";
import { isUuid } from "../../kit/ids.ts";

export const MAX_CUSTOM_ID_LENGTH = 100;

/** The image panel's buttons on a picked image (see buttons/image-panel-buttons.ts). */
export const IMAGE_ACTIONS = ["upscale", "subtle", "strong", "sheet"] as const;
export type ImageAction = (typeof IMAGE_ACTIONS)[number];

export type CustomId =
  | { handler: "gen"; action: "pick" | "vary"; generationId: string; slot: number }
  | { handler: "gen"; action: "again" | "remix"; generationId: string }
  /** The Remix modal of a generation: its submission draws the edited description. */
  | { handler: "modal"; action: "remix"; generationId: string }
  | { handler: "img"; action: ImageAction; imageId: string }
  | { handler: "ref"; action: "page"; userId: string; page: number }
  | { handler: "lib"; action: "page"; page: number }
  | { handler: "mod"; action: "purge" | "cancel"; userId: string }
  /** /privacy delete's confirmation: only the member it names may press it. */
  | { handler: "priv"; action: "erase" | "keep"; userId: string }
  /** A page of /moderation log: its filter and how many entries come before it (the rows hold the rest). */
  | {
      handler: "mod";
      action: "log";
      filter: AuditActionFilter | null;
      memberId: string | null;
      offset: number;
    };

const SNOWFLAKE = /^\d{17,20}$/;

export function encodeCustomId(id: CustomId): string {
  const encoded = partsOf(id).join(":");
  if (encoded.length > MAX_CUSTOM_ID_LENGTH)
    throw new RangeError(`custom_id over ${MAX_CUSTOM_ID_LENGTH} chars`);
  return encoded;
}

function partsOf(id: CustomId): string[] {
  switch (id.handler) {
    case "gen":
      return id.action === "pick" || id.action === "vary"
        ? ["gen", id.action, id.generationId, String(id.slot)]
        : ["gen", id.action, id.generationId];
    // An image panel's id is at most 48 characters (a known action and a UUID).
    case "img":
      return ["img", id.action, id.imageId];
    case "modal":
      return ["modal", "remix", id.generationId];
    case "ref":
      return ["ref", "page", id.userId, String(id.page)];
    case "lib":
      return ["lib", "page", String(id.page)];
    case "priv":
      return ["priv", id.action, id.userId];
    case "mod":
      return id.action === "log"
        ? ["mod", "log", id.filter ?? "-", id.memberId ?? "-", String(id.offset)]
        : ["mod", id.action, id.userId];
  }
}

/** Parses a custom_id; anything malformed or forged is a user-facing error, never a crash. */
export function parseCustomId(raw: string): CustomId {
  const parts = raw.length <= MAX_CUSTOM_ID_LENGTH ? raw.split(":") : [];
  const [handler, action, a, b] = parts;
  if (handler === "gen" || handler === "modal") return parseGeneration(handler, action, a, b, parts.length);
  if (handler === "img") return parseImagePanel(action, a, parts.length);
  if (
    handler === "ref" &&
    action === "page" &&
    parts.length === 4 &&
    SNOWFLAKE.test(a ?? "") &&
    /^\d{1,4}$/.test(b ?? "")
  ) {
    return { handler, action, userId: a as string, page: Number(b) };
  }
  if (handler === "lib" && action === "page" && parts.length === 3 && /^\d{1,4}$/.test(a ?? "")) {
    return { handler, action, page: Number(a) };
  }
  if (
    handler === "mod" &&
    (action === "purge" || action === "cancel") &&
    parts.length === 3 &&
    SNOWFLAKE.test(a ?? "")
  ) {
    return { handler, action, userId: a as string };
  }
  if (handler === "mod" && action === "log" && parts.length === 5) return parseLogPage(a, b, parts[4]);
  if (
    handler === "priv" &&
    (action === "erase" || action === "keep") &&
    parts.length === 3 &&
    SNOWFLAKE.test(a ?? "")
  ) {
    return { handler, action, userId: a as string };
  }
  throw unrecognised();
}

const unrecognised = () => new UserFacingError(t("kit:customId.unrecognised"));

/** A grid's buttons (`gen:pick|vary:<uuid>:<slot>`, `gen:again|remix:<uuid>`) and its Remix modal. */
function parseGeneration(
  handler: "gen" | "modal",
  action: string | undefined,
  generationId: string | undefined,
  slot: string | undefined,
  parts: number,
): CustomId {
  if (!isUuid(generationId)) throw unrecognised();
  if (handler === "modal") {
    if (action === "remix" && parts === 3) return { handler, action, generationId };
    throw unrecognised();
  }
  if ((action === "pick" || action === "vary") && parts === 4 && /^[1-4]$/.test(slot ?? ""))
    return { handler, action, generationId, slot: Number(slot) };
  if ((action === "again" || action === "remix") && parts === 3) return { handler, action, generationId };
  throw unrecognised();
}

/** `img:<action>:<image uuid>`: a known action on an image named by a valid UUID. */
function parseImagePanel(action: string | undefined, imageId: string | undefined, parts: number): CustomId {
  const known = IMAGE_ACTIONS.find((a) => a === action);
  if (!known || parts !== 3 || !isUuid(imageId)) throw unrecognised();
  return { handler: "img", action: known, imageId };
}

/** `mod:log:<action filter or ->:<member id or ->:<offset>`. */
function parseLogPage(filter?: string, member?: string, offset?: string): CustomId {
  const knownFilter = (AUDIT_ACTION_FILTERS as readonly string[]).includes(filter ?? "");
  if (
    (filter !== "-" && !knownFilter) ||
    (member !== "-" && !SNOWFLAKE.test(member ?? "")) ||
    !/^\d{1,6}$/.test(offset ?? "")
  ) {
    throw unrecognised();
  }
  return {
    handler: "mod",
    action: "log",
    filter: knownFilter ? (filter as AuditActionFilter) : null,
    memberId: member === "-" ? null : (member as string),
    offset: Number(offset),
  };
}
