// The one codec for component custom_ids: `<handler>:<action>:<arg>…`. State lives in SQLite, not here.
import {
  AUDIT_ACTION_FILTERS,
  type AuditActionFilter,
} from "../../features/moderation/moderation-service.ts";
import { UserFacingError } from "../../kit/errors.ts";
import { isUuid } from "../../kit/ids.ts";

export const MAX_CUSTOM_ID_LENGTH = 100;

export type CustomId =
  | { handler: "gen"; action: "pick" | "vary"; generationId: string; slot: number }
  | { handler: "gen"; action: "again" | "remix"; generationId: string }
  /** The Remix modal of a generation: its submission draws the edited description. */
  | { handler: "modal"; action: "remix"; generationId: string }
  | { handler: "ref"; action: "page"; userId: string; page: number }
  | { handler: "lib"; action: "page"; page: number }
  | { handler: "mod"; action: "purge" | "cancel"; userId: string }
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
  const parts =
    id.handler === "gen"
      ? id.action === "pick" || id.action === "vary"
        ? ["gen", id.action, id.generationId, String(id.slot)]
        : ["gen", id.action, id.generationId]
      : id.handler === "modal"
        ? ["modal", "remix", id.generationId]
        : id.handler === "ref"
          ? ["ref", "page", id.userId, String(id.page)]
          : id.handler === "lib"
            ? ["lib", "page", String(id.page)]
            : id.action === "log"
              ? ["mod", "log", id.filter ?? "-", id.memberId ?? "-", String(id.offset)]
              : ["mod", id.action, id.userId];
  const encoded = parts.join(":");
  if (encoded.length > MAX_CUSTOM_ID_LENGTH)
    throw new RangeError(`custom_id over ${MAX_CUSTOM_ID_LENGTH} chars`);
  return encoded;
}

/** Parses a custom_id; anything malformed or forged is a user-facing error, never a crash. */
export function parseCustomId(raw: string): CustomId {
  const parts = raw.length <= MAX_CUSTOM_ID_LENGTH ? raw.split(":") : [];
  const [handler, action, a, b] = parts;
  if (
    handler === "gen" &&
    (action === "pick" || action === "vary") &&
    parts.length === 4 &&
    isUuid(a) &&
    /^[1-4]$/.test(b ?? "")
  ) {
    return { handler, action, generationId: a, slot: Number(b) };
  }
  if (handler === "gen" && (action === "again" || action === "remix") && parts.length === 3 && isUuid(a)) {
    return { handler, action, generationId: a };
  }
  if (handler === "modal" && action === "remix" && parts.length === 3 && isUuid(a)) {
    return { handler, action, generationId: a };
  }
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
  throw unrecognised();
}

const unrecognised = () =>
  new UserFacingError("That button is not one I recognise. It may be from an older version of the bot.");

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
