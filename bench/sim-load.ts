// The simulated community of `npm run bench -- --sim`: members across the servers sending /character (count
// 1–4) at a steady rate, some pressing Regenerate or picking an image on their grid and asking for a /video of
// it, and a few members who ask again and again (whom the running cap must hold to their share). Every
// interaction is followed from send to its final answer on the local Discord server.
import type {
  DiscordSandbox,
  SandboxGuild,
  SandboxInteraction,
  StoredMessage,
} from "../src/sandbox/server.ts";

export type SimKind = "character" | "regenerate" | "pick" | "video";

/** One interaction the simulation sent, and what became of it. */
export interface SimRequest {
  kind: SimKind;
  /** The tag its prompt carries (the fake Replicate's creates name it), and the member who sent it. */
  tag: string;
  userId: string;
  /** Images asked for (0 for a pick, 1 for a video). */
  count: number;
  /** A member who asks again at once whenever they can (the fairness check). */
  flooder: boolean;
  sentAt: number;
  ackAt?: number;
  /** The first place shown, when it had to wait in the fleet's queue, with the wait it said to expect. */
  place?: { at: number; ahead: number; waitMs: number | undefined };
  /** Its final answer: the grid, the video, a refusal, or the pick's confirmation. */
  doneAt?: number;
  outcome?: "grid" | "video" | "refused" | "failed" | "picked";
  /** What a failed request was told. */
  note?: string;
  /** The last message heard for it (its first 120 characters): what a request without an answer last showed. */
  lastSeen?: string;
}

const PLACE = /Queued: (\d+) ahead of you(?:, about (\d+) (s|min) to start)?/;
const hasButton = (m: StoredMessage, label: string) =>
  (m.components as Array<{ components?: Array<{ label?: string; custom_id?: string }> }>).some((row) =>
    row.components?.some((b) => b.label === label),
  );
const buttonId = (m: StoredMessage, label: string) =>
  (m.components as Array<{ components?: Array<{ label?: string; custom_id?: string }> }>)
    .flatMap((row) => row.components ?? [])
    .find((b) => b.label === label)?.custom_id;

export interface LoadPlan {
  /** /character commands a minute, and for how long. */
  perMinute: number;
  minutes: number;
  regenerateShare: number;
  pickShare: number;
  videoShare: number;
  /** Members who ask again and again, each every `floodEveryMs`. */
  flooders: number;
  floodEveryMs: number;
}

export class SimLoad {
  readonly requests: SimRequest[] = [];
  private readonly byInteraction = new Map<string, SimRequest>();
  private readonly byMessage = new Map<string, SimRequest>();
  /** The /video a member will ask for once their pick (by its press's interaction id) is confirmed. */
  private readonly videoAfterPick = new Map<string, () => void>();
  private nextUser = 300000000000000000n;
  private nextTag = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly sandbox: DiscordSandbox,
    private readonly guilds: SandboxGuild[],
    private readonly plan: LoadPlan,
    private readonly random: () => number = Math.random,
  ) {
    sandbox.setMaxListeners(0);
    sandbox.on("interaction-callback", (i: SandboxInteraction) => this.acknowledged(i));
    sandbox.on("message", (m: StoredMessage) => this.heard(m));
  }

  /** Sends the plan's /character commands evenly over its minutes, and the flooders' besides; resolves when sent. */
  async run(): Promise<void> {
    const total = Math.round(this.plan.perMinute * this.plan.minutes);
    const gapMs = 60_000 / this.plan.perMinute;
    const start = Date.now();
    const flooders = Array.from({ length: this.plan.flooders }, () => this.member());
    const floodUntil = start + this.plan.minutes * 60_000;
    for (const f of flooders) this.flood(f.guild, f.userId, floodUntil);
    for (let i = 0; i < total; i++) {
      const due = start + i * gapMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const { guild, userId } = this.member();
      this.character(guild, userId, 1 + Math.floor(this.random() * 4), false);
    }
  }

  /** Whether every request sent has its final answer. */
  get settled(): boolean {
    return this.requests.every((r) => r.doneAt !== undefined);
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  private member(): { guild: SandboxGuild; userId: string } {
    const guild = this.guilds[Math.floor(this.random() * this.guilds.length)] as SandboxGuild;
    return { guild, userId: String(this.nextUser++) };
  }

  private flood(guild: SandboxGuild, userId: string, until: number): void {
    if (Date.now() >= until) return;
    this.character(guild, userId, 4, true);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.flood(guild, userId, until);
    }, this.plan.floodEveryMs);
    this.timers.add(timer);
  }

  /** One /character, followed like the load's (its grid is not followed up): for the single-process baseline. */
  send(guild: SandboxGuild, userId: string, count: number): SimRequest {
    this.character(guild, userId, count, true);
    return this.requests.at(-1) as SimRequest;
  }

  private character(guild: SandboxGuild, userId: string, count: number, flooder: boolean): void {
    const tag = `sim-${++this.nextTag}`;
    const request: SimRequest = { kind: "character", tag, userId, count, flooder, sentAt: Date.now() };
    const interaction = this.sandbox.runCommand({
      command: "character",
      options: { description: `a lighthouse keeper in a storm, ${tag}`, count },
      user: { id: userId, username: `member${userId.slice(-6)}` },
      guildId: guild.id,
      channelId: guild.channels[0]?.id as string,
    });
    this.track(interaction, request);
  }

  private track(interaction: SandboxInteraction, request: SimRequest): void {
    this.requests.push(request);
    this.byInteraction.set(interaction.id, request);
  }

  private acknowledged(i: SandboxInteraction): void {
    const request = this.byInteraction.get(i.id);
    if (!request || request.ackAt !== undefined) return;
    request.ackAt = Date.now();
    if (i.originalMessageId) this.byMessage.set(i.originalMessageId, request);
  }

  /** The request a message answers: by its interaction, its original message, or its prompt's tag. */
  private requestOf(m: StoredMessage): SimRequest | undefined {
    return (
      (m.interaction_id ? this.byInteraction.get(m.interaction_id) : undefined) ??
      this.byMessage.get(m.id) ??
      this.lateOriginal(m) ??
      this.channelPost(m)
    );
  }

  private heard(m: StoredMessage): void {
    const request = this.requestOf(m);
    if (!request || request.doneAt !== undefined) return;
    request.lastSeen = (m.content ?? "").slice(0, 120);
    const now = Date.now();
    const place = PLACE.exec(m.content ?? "");
    if (place) {
      if (!request.place) {
        const amount =
          place[2] === undefined ? undefined : Number(place[2]) * (place[3] === "min" ? 60_000 : 1000);
        request.place = { at: now, ahead: Number(place[1]), waitMs: amount };
      }
      return;
    }
    if (request.kind === "video") this.videoHeard(request, m, now);
    else if (request.kind === "pick") this.pickHeard(request, m, now);
    else this.gridHeard(request, m, now);
  }

  /**
   * A pick's private answer: the confirmation (the pick is recorded by then), or why it was not picked. A member
   * asks for a /video once told, not when the press is acknowledged.
   */
  private pickHeard(request: SimRequest, m: StoredMessage, now: number): void {
    request.doneAt = now;
    request.outcome = /Picked image/.test(m.content ?? "") ? "picked" : "failed";
    if (request.outcome === "failed") request.note = (m.content ?? "").slice(0, 160);
    const video = m.interaction_id ? this.videoAfterPick.get(m.interaction_id) : undefined;
    if (m.interaction_id) this.videoAfterPick.delete(m.interaction_id);
    // Sent in the same turn as the pick is answered, so the load is never settled with a /video still to come.
    if (request.outcome === "picked") video?.();
  }

  /** A /character's or a Regenerate's grid, or its refusal. */
  private gridHeard(request: SimRequest, m: StoredMessage, now: number): void {
    if (hasButton(m, "Regenerate")) {
      request.doneAt = now;
      request.outcome = m.attachments.length > 0 ? "grid" : "failed";
      this.followUp(request, m);
    } else if (m.content && !/done…/.test(m.content) && m.content !== "Request not started.") {
      request.doneAt = now;
      // A refusal: the reply withdrawn ("Request not started.") and the reason sent privately.
      request.outcome = /already have/.test(m.content) ? "refused" : "failed";
      if (request.outcome === "failed") request.note = m.content.slice(0, 160);
    }
  }

  /**
   * A result posted as a channel message of its own (its interaction's token had expired): the request whose
   * tag its prompt carries and whose member it mentions, the oldest of those still without an answer.
   */
  private channelPost(m: StoredMessage): SimRequest | undefined {
    if (m.interaction_id) return undefined;
    const tag = /\b(simv?-\d+)\b/.exec(m.content ?? "")?.[1];
    if (!tag) return undefined;
    return this.requests.find(
      (r) =>
        r.tag === tag && r.kind !== "pick" && r.doneAt === undefined && m.content.includes(`<@${r.userId}>`),
    );
  }

  /** The original message of an interaction heard before its acknowledgement was recorded. */
  private lateOriginal(m: StoredMessage): SimRequest | undefined {
    for (const [id, request] of this.byInteraction) {
      if (request.ackAt !== undefined) continue;
      const interaction = this.sandbox.interactions.get(id);
      if (interaction?.originalMessageId === m.id) {
        this.byMessage.set(m.id, request);
        return request;
      }
    }
    return undefined;
  }

  private videoHeard(request: SimRequest, m: StoredMessage, now: number): void {
    const text = m.content ?? "";
    if (/elapsed/.test(text) && m.attachments.length === 0) return;
    // A refusal withdraws the reply through this line first; its reason follows privately.
    if ((!text || text === "Request not started.") && m.attachments.length === 0) return;
    request.doneAt = now;
    request.outcome =
      m.attachments.length > 0 || /Download/.test(JSON.stringify(m.components))
        ? "video"
        : /already have/.test(text)
          ? "refused"
          : "failed";
  }

  /** What a member does with their grid: Regenerate, or pick an image (and then perhaps ask for a video). */
  private followUp(request: SimRequest, grid: StoredMessage): void {
    if (request.outcome !== "grid" || request.flooder || request.kind !== "character") return;
    const roll = this.random();
    const user = { id: request.userId, username: `member${request.userId.slice(-6)}` };
    const again = buttonId(grid, "Regenerate");
    const pick = buttonId(grid, "1");
    if (roll < this.plan.regenerateShare && again) {
      const press = this.sandbox.pressButton({ message: grid, customId: again, user });
      this.track(press, { ...this.blank(request, "regenerate"), count: request.count });
    } else if (roll < this.plan.regenerateShare + this.plan.pickShare && pick) {
      const press = this.sandbox.pressButton({ message: grid, customId: pick, user });
      this.track(press, { ...this.blank(request, "pick"), count: 0 });
      const wantsVideo = this.random() < this.plan.videoShare / this.plan.pickShare;
      if (wantsVideo) this.videoAfterPick.set(press.id, () => this.video(request, grid));
    }
  }

  /** A /video of the picked image, asked for in the grid's channel by the member who picked it. */
  private video(request: SimRequest, grid: StoredMessage): void {
    const tag = `simv-${++this.nextTag}`;
    const interaction = this.sandbox.runCommand({
      command: "video",
      options: { prompt: `the keeper climbs the stairs, ${tag}` },
      user: { id: request.userId, username: `member${request.userId.slice(-6)}` },
      guildId: grid.guild_id,
      channelId: grid.channel_id,
    });
    this.track(interaction, { ...this.blank(request, "video"), tag, count: 1 });
  }

  private blank(request: SimRequest, kind: SimKind): SimRequest {
    return { kind, tag: request.tag, userId: request.userId, count: 0, flooder: false, sentAt: Date.now() };
  }
}
