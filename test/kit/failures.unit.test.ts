// A failure's reason is rendered from its stored code when it is shown, in the language of the message it goes
// on: every code has its words in every locale, and a code the bot no longer knows still reads as a failure.
import { describe, expect, it } from "vitest";
import { FAILURE_CODES, type FailureCode, failureReason } from "../../src/kit/failures.ts";
import { DEFAULT_LOCALE, inLocales, LOCALES, localeScope } from "../../src/kit/i18n.ts";

const reasonIn = (audience: string, code: string, made: "image" | "video") =>
  inLocales(localeScope("en-US", audience), () => failureReason(code as FailureCode, made));

describe("failureReason", () => {
  for (const locale of LOCALES) {
    it(`${locale}: every code has its own words, for an image and for a video`, () => {
      for (const made of ["image", "video"] as const) {
        const reasons = FAILURE_CODES.map((code) => reasonIn(locale, code, made));
        for (const [i, reason] of reasons.entries()) {
          expect(reason).not.toMatch(/^errors:|[{}]/);
          const english = reasonIn(DEFAULT_LOCALE, FAILURE_CODES[i] as string, made);
          if (locale !== DEFAULT_LOCALE) expect(reason).not.toBe(english);
        }
        expect(new Set(reasons).size).toBe(FAILURE_CODES.length);
      }
    });
  }

  it("is in the channel's language, not the member's (it goes on the public message)", () => {
    const reason = inLocales(localeScope("ja", "de"), () => failureReason("rate_limited", "video"));
    expect(reason).toBe(
      "der Videodienst ist ausgelastet (Ratenlimit); versuche es in einer Minute noch einmal",
    );
  });

  it("reads a code it does not know (an erased row's) as a failure", () => {
    expect(reasonIn("en-US", "erased", "video")).toBe("failed");
    expect(reasonIn("fr", "erased", "image")).toBe("échec");
  });
});
