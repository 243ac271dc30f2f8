// The local server keeps each attachment's alt text (`description`) as Discord does, and refuses one longer
// than Discord's 1,024 characters.
import { afterEach, describe, expect, it } from "vitest";
import { DiscordSandbox } from "../../src/sandbox/server.ts";

let sandbox: DiscordSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

/** Posts a message with one PNG-named upload described as `description`, as multipart like discord.js. */
async function post(s: DiscordSandbox, description: string) {
  const form = new FormData();
  form.append(
    "payload_json",
    JSON.stringify({ content: "a picture", attachments: [{ id: "0", filename: "a.png", description }] }),
  );
  form.append("files[0]", new Blob([Buffer.from("not really a png")], { type: "image/png" }), "a.png");
  const res = await fetch(`${s.apiUrl}/v10/channels/${s.channel.id}/messages`, {
    method: "POST",
    headers: { authorization: `Bot ${s.token}` },
    body: form,
  });
  return {
    status: res.status,
    body: (await res.json()) as { attachments?: Array<{ description?: string }> },
  };
}

describe("attachment alt text", () => {
  it("stores and returns each attachment's description", async () => {
    sandbox = await DiscordSandbox.start();
    const posted = await post(sandbox, "Image 1: a red fox knight");
    expect(posted.status).toBe(200);
    expect(posted.body.attachments?.[0]?.description).toBe("Image 1: a red fox knight");
    expect(sandbox.channelMessages()[0]?.attachments[0]?.description).toBe("Image 1: a red fox knight");
    expect(sandbox.violations).toEqual([]);
  });

  it("refuses a description over 1,024 characters, as Discord does, and posts nothing", async () => {
    sandbox = await DiscordSandbox.start();
    expect((await post(sandbox, "x".repeat(1024))).status).toBe(200);
    const long = await post(sandbox, "x".repeat(1025));
    expect(long.status).toBe(400);
    expect(sandbox.channelMessages()).toHaveLength(1);
  });
});
