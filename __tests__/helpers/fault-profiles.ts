// One entry per provider for the fault matrix: how to start its emulator with a few targets,
// which requests mutate, what a success is called, and the provider's own throttle faults.
import { BOX_DEVELOPER_TOKEN, BoxEmulator, makeUsers as makeBoxUsers } from '../emulators/box/index.js'
import { DNL_ADMIN_TOKEN, DnlEmulator, makeUsers as makeDnlUsers } from '../emulators/denovolab/index.js'
import { GoogleEmulator, makeUsers as makeGoogleUsers, quotaError } from '../emulators/google/index.js'
import { HW_AK, HW_SK, HW_STORE_ID, HuaweiCloudEmulator, makeUsers as makeHwUsers } from '../emulators/huaweicloud/index.js'
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from '../emulators/iproyal/index.js'
import { ENTRA_CLIENT_SECRET, EntraEmulator, makeUsers as makeEntraUsers } from '../emulators/entra/index.js'
import { SLACK_ADMIN_TOKEN, SlackEmulator, makeUsers as makeSlackUsers } from '../emulators/slack/index.js'
import { OKTA_API_TOKEN, OktaEmulator, makeUsers as makeOktaUsers } from '../emulators/okta/index.js'

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
  /** A second outcome that also means "done" for this provider under faults (see the profile). */
  acceptAlso?: 'skipped'
  /** Provider-specific transient faults, beyond the shared ones. */
  extraFaults: Array<[name: string, fault: unknown]>
  /** How many times each target's termination took effect on the emulator (for "never twice"). */
  effects?(emu: EmulatorLike): Map<string, number>
  /** Restores the emulator's targets between cases (default: forget requests and faults). */
  reset?(emu: EmulatorLike): void
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
  },
  {
    provider: 'box',
    async start() {
      const emu = new BoxEmulator({ users: makeBoxUsers(8) })
      await emu.start()
      return emu as unknown as EmulatorLike
    },
    inputs: (emu) => ({ provider: 'box', token: BOX_DEVELOPER_TOKEN, 'base-url': (emu as unknown as BoxEmulator).baseUrl, 'batch-size': '2' }),
    targets: (emu) => [...(emu as unknown as BoxEmulator).users.keys()].slice(0, 6),
    isMutating: (q) => q.method === 'POST' && q.path.endsWith('/terminate_sessions'),
    success: 'accepted',
    extraFaults: [],
    effects: (emu) => {
      const counts = new Map<string, number>()
      for (const j of (emu as unknown as BoxEmulator).jobs as Array<{ id: string }>) counts.set(j.id, (counts.get(j.id) ?? 0) + 1)
      return counts
    },
    // A repeated terminate only queues another job for the same user: harmless.
    repeatMatters: false
  },
  {
    provider: 'denovolab',
    async start() {
      const emu = new DnlEmulator({ users: makeDnlUsers(8) })
      await emu.start()
      return emu as unknown as EmulatorLike
    },
    inputs: (emu) => ({ provider: 'denovolab', token: DNL_ADMIN_TOKEN, 'base-url': (emu as unknown as DnlEmulator).baseUrl }),
    targets: () => ['1', '2', '3', '4', '5', '6'],
    reset: (emu) => (emu as unknown as DnlEmulator).resetState(makeDnlUsers(8)),
    isMutating: (q) => q.method === 'DELETE',
    // A delete whose answer was lost is found gone on the retry: the provider reports it
    // skipped "already deleted (... an earlier attempt of this run may have deleted it ...)".
    success: 'terminated',
    acceptAlso: 'skipped',
    extraFaults: [],
    effects: (emu) => {
      const counts = new Map<string, number>()
      for (const id of (emu as unknown as DnlEmulator).deleted as number[]) counts.set(String(id), (counts.get(String(id)) ?? 0) + 1)
      return counts
    },
    repeatMatters: true
  },
  {
    provider: 'huaweicloud',
    async start() {
      const emu = new HuaweiCloudEmulator({ users: HW_USERS })
      await emu.start()
      return emu as unknown as EmulatorLike
    },
    inputs: (emu) => {
      const origin = (emu as unknown as HuaweiCloudEmulator).origin
      return {
        provider: 'huaweicloud',
        region: 'ap-southeast-1',
        'base-url': origin,
        'auth-base-url': origin,
        'identity-store-id': HW_STORE_ID,
        'access-key-id': HW_AK,
        token: HW_SK,
        'batch-size': '2'
      }
    },
    targets: () => HW_USERS.map((u) => u.user_id),
    reset: (emu) => {
      const hw = emu as unknown as HuaweiCloudEmulator
      hw.reset()
      hw.setUsers(HW_USERS)
    },
    isMutating: (q) => q.method === 'POST' && q.path.endsWith('/sessions/batch-delete'),
    success: 'terminated',
    extraFaults: [
      ['gateway throttling APIGW.0308 (no Retry-After)', { kind: 'status', status: 429 }],
      ['409 IIC.1006 concurrency conflict', { kind: 'status', status: 409 }]
    ],
    // Deleting an ended session again changes nothing.
    repeatMatters: false
  },
  {
    provider: 'entra',
    async start() {
      const emu = new EntraEmulator({ users: makeEntraUsers(8) })
      await emu.start()
      return emu as unknown as EmulatorLike
    },
    // Two revoke items per $batch, so a run is several batches; a client secret.
    inputs: (emu) => ({ provider: 'entra', ...(emu as unknown as EntraEmulator).inputs(), token: ENTRA_CLIENT_SECRET, 'batch-size': '2' }),
    targets: (emu) => [...(emu as unknown as EntraEmulator).users.keys()].slice(0, 6),
    reset: (emu) => (emu as unknown as EntraEmulator).reset(),
    // Lookups are $batch POSTs too: only a batch that carries a revoke item changes anything.
    isMutating: (q) =>
      q.method === 'POST' && q.path === '/v1.0/$batch' && JSON.stringify((q as { json?: unknown }).json ?? '').includes('revokeSignInSessions'),
    success: 'terminated',
    extraFaults: [],
    effects: (emu) => {
      const counts = new Map<string, number>()
      for (const r of (emu as unknown as EntraEmulator).revocations as Array<{ userId: string }>) counts.set(r.userId, (counts.get(r.userId) ?? 0) + 1)
      return counts
    },
    // Revoking twice only moves the revocation time: harmless.
    repeatMatters: false
  },
  {
    provider: 'slack',
    async start() {
      const emu = new SlackEmulator({ users: makeSlackUsers(8) })
      await emu.start()
      return emu as unknown as EmulatorLike
    },
    inputs: (emu) => ({ provider: 'slack', token: SLACK_ADMIN_TOKEN, 'base-url': (emu as unknown as SlackEmulator).baseUrl, 'batch-size': '2' }),
    targets: (emu) => [...(emu as unknown as SlackEmulator).users.keys()].slice(0, 6),
    reset: (emu) => (emu as unknown as SlackEmulator).reset(),
    isMutating: (q) => q.path.startsWith('/api/admin.users.session.'),
    success: 'accepted',
    extraFaults: [
      [
        'HTTP 200 {"ok":false,"error":"ratelimited"} with Retry-After',
        { kind: 'custom', respond: () => ({ status: 200, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } }) }
      ]
    ],
    // A second reset of the same user's sessions is harmless.
    repeatMatters: false
  },
  {
    provider: 'okta',
    async start() {
      const emu = new OktaEmulator({ users: makeOktaUsers(8) })
      await emu.start()
      return emu as unknown as EmulatorLike
    },
    inputs: (emu) => ({ provider: 'okta', token: OKTA_API_TOKEN, 'base-url': (emu as unknown as OktaEmulator).origin }),
    targets: (emu) => [...(emu as unknown as OktaEmulator).users.keys()].slice(0, 6),
    reset: (emu) => (emu as unknown as OktaEmulator).reset(),
    isMutating: (q) => q.method === 'DELETE' && q.path.endsWith('/sessions'),
    success: 'terminated',
    extraFaults: [['429 E0000047 with X-Rate-Limit-Reset', { kind: 'throttle', retryAfter: 'none', seconds: 1 }]],
    effects: (emu) => {
      const counts = new Map<string, number>()
      for (const r of (emu as unknown as OktaEmulator).revocations as Array<{ userId: string }>) counts.set(r.userId, (counts.get(r.userId) ?? 0) + 1)
      return counts
    },
    // Clearing the sessions of a user twice is harmless.
    repeatMatters: false
  },
  {
    provider: 'google',
    async start() {
      const emu = new GoogleEmulator({ users: GOOGLE_USERS, quota: false })
      await emu.start()
      // A pre-minted (keyless-route) token; reset() re-arms it.
      googleToken = emu.registerAccessToken({ ttlSeconds: 3600 })
      return emu as unknown as EmulatorLike
    },
    inputs: (emu) => ({ provider: 'google', token: googleToken, 'base-url': (emu as unknown as GoogleEmulator).baseUrl }),
    // User ids: what the report lists (emails would resolve to them too).
    targets: () => GOOGLE_USERS.slice(0, 6).map((u) => u.id as string),
    isMutating: (q) => (q.method === 'POST' && q.path.endsWith('/signOut')) || q.method === 'DELETE',
    success: 'terminated',
    // The shared throttle faults answer Google's 403 userRateLimitExceeded (no Retry-After); these are its other quota answers.
    extraFaults: [
      ['429 rateLimitExceeded (no Retry-After)', { kind: 'status', status: 429 }],
      ['403 quotaExceeded (no Retry-After)', { kind: 'custom', respond: () => quotaError('quotaExceeded') }]
    ],
    // Signing a user out twice changes nothing.
    repeatMatters: false
  }
]

const GOOGLE_USERS = makeGoogleUsers(8)
let googleToken = ''

/** Six users with three sessions each: two batch-delete calls per user at batch-size 2. */
const HW_USERS = makeHwUsers(6, { prefix: 'fault', sessionsFor: () => 3 })

export function profileOf(provider: string): FaultProfile {
  const p = faultProfiles.find((x) => x.provider === provider)
  if (!p) throw new Error(`no fault profile for ${provider}`)
  return p
}
