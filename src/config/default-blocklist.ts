// DEFAULT_BLOCKLIST: the bot-wide prompt blocklist that holds outside a server (DMs, group DMs, a server where
// only the member installed the app) and in a server without settings of its own. A comma-separated list, or a
// path (starting with / or .) to a file with one entry per line (# starts a comment line).
import { readFileSync } from "node:fs";
import { z } from "zod";

/** A bot-wide list is checked against every prompt outside servers: kept to a size a server's may have. */
const MAX_ENTRIES = 500;
const MAX_ENTRY_CHARACTERS = 100;

const isPath = (text: string) => text.startsWith("/") || text.startsWith(".");

export const defaultBlocklistSchema = z
  .string()
  .default("")
  .transform((raw, ctx): string[] => {
    const text = raw.trim();
    if (text === "") return [];
    let entries: string[];
    if (isPath(text)) {
      try {
        entries = readFileSync(text, "utf8")
          .split(/\r?\n/)
          .filter((line) => !line.trim().startsWith("#"));
      } catch (err) {
        ctx.addIssue({
          code: "custom",
          message: `cannot read ${text} (${(err as NodeJS.ErrnoException).code})`,
        });
        return [];
      }
    } else {
      entries = text.split(",");
    }
    const list = [...new Set(entries.map((e) => e.trim().toLowerCase()).filter((e) => e !== ""))];
    if (list.length > MAX_ENTRIES) {
      ctx.addIssue({ code: "custom", message: `has ${list.length} entries; at most ${MAX_ENTRIES}` });
    }
    const long = list.find((e) => [...e].length > MAX_ENTRY_CHARACTERS);
    if (long) {
      ctx.addIssue({ code: "custom", message: `entries are at most ${MAX_ENTRY_CHARACTERS} characters` });
    }
    return list;
  });
