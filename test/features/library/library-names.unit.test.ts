import { describe, expect, it } from "vitest";
import { libraryNameKey } from "../../../src/db/repositories/library-repo.ts";
import {
  libraryNameProblem,
  MAX_LIBRARY_NAME_LENGTH,
  normaliseLibraryName,
} from "../../../src/features/library/library-service.ts";

describe("library names", () => {
  it("take 1–32 letters of any script, digits, spaces, - and _", () => {
    for (const name of [
      "Silver Robot",
      "x",
      "neko-chan_2",
      "Ærøskøbing",
      "夜の猫",
      "a".repeat(MAX_LIBRARY_NAME_LENGTH),
    ]) {
      expect(libraryNameProblem(name), name).toBeUndefined();
    }
  });

  it("refuse empty, long and punctuated names, and anything that could pass for a path or markup", () => {
    for (const name of [
      "",
      "a".repeat(MAX_LIBRARY_NAME_LENGTH + 1),
      "robot/../x",
      "a`b",
      "<@123>",
      "50%",
      "tab\there",
      "dot.name",
    ]) {
      expect(libraryNameProblem(name), name).toBeDefined();
    }
  });

  it("are stored trimmed with single spaces and compared without case", () => {
    expect(normaliseLibraryName("  Silver   Robot ")).toBe("Silver Robot");
    expect(libraryNameKey("Silver Robot")).toBe(libraryNameKey("SILVER robot"));
  });
});
