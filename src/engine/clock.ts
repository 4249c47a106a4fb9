import { setTimeout as delay } from 'node:timers/promises'

/** Time as the engine sees it; tests may pass a faster or fake one. */
export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms: number) => {
    if (ms > 0) await delay(ms)
  }
}
