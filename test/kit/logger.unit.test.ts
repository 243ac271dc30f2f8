import { describe, expect, it } from "vitest";
import { captureLogger, TEST_REPLICATE_TOKEN } from "../support/env.ts";

const DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.discord-secret-value";

describe("logger redaction", () => {
  it("redacts token values and authorization headers wherever they appear", () => {
    const { logger, lines } = captureLogger([TEST_REPLICATE_TOKEN, DISCORD_TOKEN]);
    logger.info({ token: DISCORD_TOKEN }, "top-level key");
    logger.info({ req: { headers: { authorization: `Bearer ${TEST_REPLICATE_TOKEN}` } } }, "nested header");
    logger.info({ config: { replicate: { token: TEST_REPLICATE_TOKEN } } }, "nested key");
    logger.info(`a message that quotes ${DISCORD_TOKEN} inline`);
    logger.error({ err: new Error(`request with Bearer ${TEST_REPLICATE_TOKEN} failed`) }, "error text");
    logger.info(
      { url: `http://x/webhooks/1/${"a".repeat(10)}`, header: "Bot some.other-token-value" },
      "bot header",
    );

    const restError = Object.assign(new Error("Invalid Form Body"), {
      url: "http://127.0.0.1/api/v10/webhooks/1574740189429891073/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQ/messages/%40original",
      requestBody: { files: [{ name: "x.png", data: "AAAA".repeat(1000) }] },
    });
    logger.error({ err: restError }, "rest error");

    expect(lines).toHaveLength(7);
    expect(lines[6]).not.toContain("aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQ");
    expect(lines[6]).not.toContain("requestBody");
    expect(lines[6]).toContain("/webhooks/1574740189429891073/[Redacted]/messages");
    const all = lines.join("\n");
    expect(all).not.toContain(TEST_REPLICATE_TOKEN);
    expect(all).not.toContain(DISCORD_TOKEN);
    expect(all).not.toContain("some.other-token-value");
    expect(all.match(/\[Redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
    // Everything else survives: the lines are still the JSON a log pipeline expects.
    const parsed = lines.map((l) => JSON.parse(l) as { msg: string });
    expect(parsed.map((p) => p.msg)).toContain("nested header");
    expect(parsed[0]).toMatchObject({ token: "[Redacted]" });
  });
});
