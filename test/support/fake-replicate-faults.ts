// The faults a test queues on the fake Replicate server (an error status with Retry-After, a request left
// unanswered, a create whose answer is lost after it was stored), and the requests it leaves hanging.
import type { ServerResponse } from "node:http";

export interface Fault {
  method: "GET" | "POST" | "DELETE";
  /** Matched against the start of the path, e.g. "/v1/models/" or "/v1/predictions/". */
  pathPrefix: string;
  status?: number;
  retryAfter?: string;
  /** Never answer; the client must time out. */
  hang?: boolean;
  /**
   * For a create: the prediction is created (and would be billed) as usual, then this fault's answer (status
   * or hang) goes back instead of the 201, as when Replicate's answer is lost on the way.
   */
  afterCreate?: boolean;
}

export class FaultQueue {
  private readonly faults: Fault[] = [];
  private readonly hanging = new Set<ServerResponse>();

  /** Queues a one-shot fault for the next request that matches. */
  add(fault: Fault): void {
    this.faults.push(fault);
  }

  /**
   * Takes the first queued fault for this request, if any: one answered in its place, or (`afterCreate`) one
   * answered after the create was stored.
   */
  take(method: string, path: string, afterCreate: boolean): Fault | undefined {
    const index = this.faults.findIndex(
      (f) => (f.afterCreate ?? false) === afterCreate && f.method === method && path.startsWith(f.pathPrefix),
    );
    return index >= 0 ? this.faults.splice(index, 1)[0] : undefined;
  }

  /** Leaves a request unanswered until the server closes. */
  hang(res: ServerResponse): void {
    this.hanging.add(res);
  }

  close(): void {
    for (const res of this.hanging) res.destroy();
  }
}
