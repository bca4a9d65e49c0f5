import type { Clock } from '../clock/clock.js';

/** Resolves as work does, or rejects with onTimeout() when ms pass first. */
export function withTimeout<T>(clock: Clock, work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimeout(() => reject(onTimeout()), ms);
    work.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}
