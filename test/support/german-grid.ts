// What a grid posted in a German server says, whichever process delivered it and whoever asked: the tests of
// languages on one process and on the fleet check the same words.
import { expect } from "vitest";
import type { SandboxUser, StoredMessage } from "../../src/sandbox/server.ts";
import { buttons } from "./bot-harness.ts";

/** What every grid of a German server says, in German, whoever asked. */
export function expectGermanGrid(grid: StoredMessage, user: SandboxUser, description: string): void {
  expect(grid.visible_to).toBeUndefined();
  expect(grid.content).toContain(`“${description}” für <@${user.id}> · 1:1 ·`);
  expect(grid.content).toContain("Wähle deine Referenz mit den Schaltflächen 1, 2.");
  expect(buttons(grid).map((b) => b.label)).toEqual([
    "1",
    "2",
    "Variieren 1",
    "Variieren 2",
    "Neu erzeugen",
    "Remix",
  ]);
  expect(grid.attachments.map((a) => a.description)).toEqual([
    `Bild 1: ${description}`,
    `Bild 2: ${description}`,
  ]);
}
