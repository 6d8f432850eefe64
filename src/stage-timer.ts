/**
 * Milliseconds per named stage of a long job, each counted from the end of the one before, for
 * manifests' `run` part and reports. Wall time never reaches output bytes.
 */
export interface StageTimer {
  readonly timings: Record<string, number>;
  /** Ends the stage `name` (started when the previous one ended, or at creation). */
  stage(name: string): void;
}

export function stageTimer(onStage?: (name: string, milliseconds: number) => void): StageTimer {
  const timings: Record<string, number> = {};
  let mark = performance.now();
  return {
    timings,
    stage(name) {
      const now = performance.now();
      const ms = Math.round(now - mark);
      timings[name] = ms;
      mark = now;
      onStage?.(name, ms);
    },
  };
}
