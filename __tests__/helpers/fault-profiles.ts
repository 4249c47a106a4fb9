// One entry per provider for the fault matrix: how to start its emulator with a few targets,
// which requests mutate, what a success is called, and the provider's own throttle faults.
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from '../emulators/iproyal/index.js'

export interface EmulatorLike {
  server: {
    requests: Array<{ method: string; path: string; status?: number; fault?: string }>
    queueFaults(faults: unknown[], match?: (q: { method: string; path: string }) => boolean): void
    setFaultRate(rate: number, kinds: unknown[], opts?: { seed?: number; match?: (q: { method: string; path: string }) => boolean }): void
    reset(): void
  }
  stop(): Promise<void>
}

export interface FaultProfile {
  provider: string
  start(): Promise<EmulatorLike>
  inputs(emu: EmulatorLike): Record<string, string>
  /** The targets every run acts on (ids as the report lists them). */
  targets(emu: EmulatorLike): string[]
  isMutating(q: { method: string; path: string }): boolean
  success: 'terminated' | 'accepted'
  /** Provider-specific transient faults, beyond the shared ones. */
  extraFaults: Array<[name: string, fault: unknown]>
  /** How many times each target's termination took effect on the emulator (for "never twice"). */
  effects?(emu: EmulatorLike): Map<string, number>
  /** Whether a repeated termination is harmful (accounts), so duplicates must not happen. */
  repeatMatters: boolean
}

export const faultProfiles: FaultProfile[] = [
  {
    provider: 'iproyal',
    async start() {
      const emu = new IPRoyalEmulator({ subUsers: makeSubUsers(8, 'fault') })
      await emu.start()
      return emu as unknown as EmulatorLike
    },
    inputs: (emu) => ({ provider: 'iproyal', token: IPROYAL_TOKEN, 'base-url': (emu as unknown as IPRoyalEmulator).baseUrl, 'batch-size': '2' }),
    targets: (emu) => [...(emu as unknown as IPRoyalEmulator).subUsers.keys()].slice(0, 6),
    isMutating: (q) => q.method === 'DELETE',
    success: 'terminated',
    extraFaults: [],
    effects: (emu) => (emu as unknown as IPRoyalEmulator).resets,
    repeatMatters: false
  }
]
