// How a prediction job's prediction is started: created for a row that never sent a create; for a row whose
// create a stopped run sent, found again in the provider's list, or created once the provider surely never
// had it. A row records one prediction id only: a run that records second cancels its own and waits on the
// recorded one, so two runs holding one job (a lapsed lock) never leave two predictions running.
import { type Clock, sleep } from "../kit/clock.ts";
import { PredictionFailure } from "../kit/failures.ts";
import type { StartedPrediction } from "../providers/types.ts";
import type { JobState, PredictionJob, StartedJob } from "./job-runner.ts";

/**
 * Prediction ids held by other rows are skipped when a lost create is looked up if they may have been made
 * this long before it was sent (Replicate's list is only searched a little way back from then).
 */
const HELD_ELSEWHERE_WINDOW_MS = 60 * 60 * 1000;

export class PredictionStarts {
  /**
   * Predictions this runner created whose ids their rows do not hold yet (the database went away as they
   * were recorded), by row: a run again adopts its own, which Replicate's list would not give back (this
   * process's creates are skipped there).
   */
  private readonly unrecorded = new Map<string, StartedPrediction>();

  constructor(private readonly clock: Clock) {}

  /**
   * A new prediction for a row that never sent a create; for a row that did, the prediction it made, found
   * again, or (when the provider is sure it never made one) a new one, created once.
   */
  async startOrRecover<Request>(
    job: PredictionJob<Request>,
    state: JobState,
    signal: AbortSignal,
  ): Promise<StartedJob> {
    const request = await job.request();
    if (state.createSentAt === null && (await job.markCreateSent(this.clock.now()))) {
      return this.create(job, request, signal);
    }
    // A create was sent by a run that stopped before its answer was recorded (or by another runner).
    const current = await job.state();
    if (current?.predictionId) return recordedOf(current);
    if (hasEnded(current)) throw new PredictionFailure("provider_error", "the job ended while it started");
    const sentAt = current?.createSentAt ?? state.createSentAt ?? this.clock.now();
    const own = this.unrecorded.get(job.key.id);
    if (own) return this.record(job, own, sentAt);
    const excluded = await job.heldElsewhere(sentAt - HELD_ELSEWHERE_WINDOW_MS);
    const found = await job.provider.recover(request, sentAt, excluded, signal);
    if (found) {
      job.log.info(
        { predictionId: found.predictionId, model: found.model, sentAt },
        "adopted the prediction of a create sent before the restart",
      );
      return this.record(job, found, sentAt);
    }
    // Not listed, long enough after it was sent for any create that arrived to be: that create never reached
    // the provider (its run stopped between the mark and the request). Sent now, by the one run that re-marks it.
    if (await job.markCreateSent(this.clock.now(), sentAt)) {
      job.log.info({ sentAt }, "a create sent before the restart never arrived; creating it now");
      return this.create(job, request, signal);
    }
    // Another run re-marked it first and is creating it: its prediction is the row's once recorded.
    return this.awaitRecorded(job, signal);
  }

  /** Sends the create a row was just marked for, and records its prediction id the moment it is known. */
  private async create<Request>(
    job: PredictionJob<Request>,
    request: Request,
    signal: AbortSignal,
  ): Promise<StartedJob> {
    const sentAt = this.clock.now();
    const started = await job.provider.start(request, signal);
    job.log.debug({ predictionId: started.predictionId, model: started.model }, "prediction started");
    this.unrecorded.set(job.key.id, started);
    return this.record(job, started, sentAt, true);
  }

  /**
   * Records `started` as the row's prediction. When another run's is recorded first (two runs held the job:
   * a lapsed lock), that one is waited on, and this run's own create, if it made one, is cancelled at once.
   */
  private async record<Request>(
    job: PredictionJob<Request>,
    started: StartedPrediction,
    sentAt: number,
    ownCreate = false,
  ): Promise<StartedJob> {
    const won = await job.markStarted(started);
    this.unrecorded.delete(job.key.id);
    const now = won ? undefined : await job.state();
    if (!now?.predictionId || now.predictionId === started.predictionId) return { ...started, sentAt };
    job.log.warn(
      { predictionId: started.predictionId, recorded: now.predictionId },
      "another run recorded its prediction for this row first; waiting on that one",
    );
    if (ownCreate) {
      await job.provider
        .cancel(started.predictionId)
        .catch((err: unknown) => job.log.warn({ err }, "could not cancel the prediction made twice"));
    }
    return recordedOf(now);
  }

  /** The prediction another run is creating for the row, once it records it (a minute at most). */
  private async awaitRecorded<Request>(
    job: PredictionJob<Request>,
    signal: AbortSignal,
  ): Promise<StartedJob> {
    const until = this.clock.now() + RECORDED_WAIT_MS;
    while (this.clock.now() < until) {
      await sleep(1000, signal);
      const now = await job.state();
      if (now?.predictionId) return recordedOf(now);
      if (hasEnded(now)) break;
    }
    throw new PredictionFailure(
      "provider_error",
      `a create was sent before the bot stopped, the ${job.key.kind} service does not list it, and the run that sent it again recorded nothing; not created a third time`,
    );
  }
}

/** How long a run waits for the prediction another run re-created for the same row to be recorded. */
const RECORDED_WAIT_MS = 60_000;

/** The prediction a row records (its caller saw an id there), as a run waits on it. */
function recordedOf(state: JobState): StartedJob {
  return {
    predictionId: state.predictionId as string,
    model: state.model,
    sentAt: state.createSentAt ?? undefined,
  };
}

/** A row that is gone or records its end has nothing left to run. */
export function hasEnded(state: JobState | undefined): boolean {
  return !state || state.status === "succeeded" || state.status === "failed";
}
