import { describe, expect, it } from "vitest";
import {
  type CustomId,
  encodeCustomId,
  MAX_CUSTOM_ID_LENGTH,
  parseCustomId,
} from "../../../src/discord/kit/custom-id.ts";
import { UserFacingError } from "../../../src/kit/errors.ts";
import { newId } from "../../../src/kit/ids.ts";

describe("custom_id codec", () => {
  it("round-trips every kind within Discord's 100 characters", () => {
    const ids: CustomId[] = [
      { handler: "gen", action: "pick", generationId: newId(), slot: 4 },
      { handler: "gen", action: "again", generationId: newId() },
      { handler: "gen", action: "vary", generationId: newId(), slot: 1 },
      { handler: "lib", action: "page", page: 9999 },
      { handler: "img", action: "upscale", imageId: newId() },
      { handler: "img", action: "subtle", imageId: newId() },
      { handler: "img", action: "strong", imageId: newId() },
      { handler: "img", action: "sheet", imageId: newId() },
      { handler: "ref", action: "page", userId: "12345678901234567890", page: 9999 },
      { handler: "mod", action: "purge", userId: "12345678901234567" },
      { handler: "mod", action: "cancel", userId: "12345678901234567" },
      { handler: "mod", action: "log", filter: null, memberId: null, offset: 0 },
      { handler: "mod", action: "log", filter: "settings", memberId: null, offset: 10 },
      {
        handler: "mod",
        action: "log",
        filter: "reference_delete",
        memberId: "12345678901234567890",
        offset: 999990,
      },
    ];
    for (const id of ids) {
      const encoded = encodeCustomId(id);
      expect(encoded.length).toBeLessThanOrEqual(MAX_CUSTOM_ID_LENGTH);
      expect(parseCustomId(encoded)).toEqual(id);
    }
  });

  it("turns anything malformed or forged into a user-facing error", () => {
    const id = newId();
    for (const raw of [
      "",
      "gen",
      `gen:pick:${id}`,
      `gen:pick:${id}:0`,
      `gen:pick:${id}:5`,
      `gen:pick:${id}:1:extra`,
      "gen:pick:../../etc/passwd:1",
      `gen:again:${id.toUpperCase()}`,
      "ref:page:abc:1",
      "ref:page:12345678901234567:-1",
      "mod:purge:../../x",
      `gen:vary:${id}:5`,
      "lib:page:-1",
      `img:upscale:${id.toUpperCase()}`,
      "img:upscale:../../etc/passwd",
      `img:delete:${id}`,
      `img:sheet:${id}:1`,
      "img:sheet",
      "lib:page:1:2",
      "mod:drop:12345678901234567",
      "mod:log:-:-",
      "mod:log:-:-:-1",
      "mod:log:-:-:1234567",
      "mod:log:delete_everything:-:0",
      "mod:log:settings_x:-:0",
      "mod:log:-:abc:0",
      "mod:log:purge:12345678901234567:0:1",
      `x:${"a".repeat(200)}`,
      `gen:pick:${id}:1`.padEnd(101, " "),
    ]) {
      expect(() => parseCustomId(raw), raw).toThrow(UserFacingError);
    }
  });
});
