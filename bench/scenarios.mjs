// Benchmark workloads, one per provider: how to build an emulator holding `size` targets, the
// target ids, the action inputs, and the curl command a user would loop over (none for Huawei
// Cloud: its API takes only SDK-HMAC-SHA256-signed requests, which curl cannot make).
import { BOX_DEVELOPER_TOKEN, BoxEmulator, makeUsers as makeBoxUsers } from '../__tests__/emulators/box/index.js'
import { DNL_ADMIN_TOKEN, DnlEmulator, makeUsers as makeDnlUsers } from '../__tests__/emulators/denovolab/index.js'
import { ENTRA_CLIENT_SECRET, EntraEmulator, makeUsers as makeEntraUsers } from '../__tests__/emulators/entra/index.js'
import { GoogleEmulator, makeUsers as makeGoogleUsers } from '../__tests__/emulators/google/index.js'
import { HW_AK, HW_SK, HW_STORE_ID, HuaweiCloudEmulator, makeUsers as makeHwUsers } from '../__tests__/emulators/huaweicloud/index.js'
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from '../__tests__/emulators/iproyal/index.js'
import { OKTA_API_TOKEN, OktaEmulator, makeUsers as makeOktaUsers } from '../__tests__/emulators/okta/index.js'
import { SLACK_ADMIN_TOKEN, SlackEmulator, makeUsers as makeSlackUsers } from '../__tests__/emulators/slack/index.js'

async function started(emu) {
  await emu.start()
  return emu
}

export const benchScenarios = [
  {
    provider: 'iproyal',
    sizes: [1000, 10_000, 100_000],
    rateLimit: 3000,
    latencyMs: 50,
    concurrency: 4,
    note: 'targets are user hashes (no lookup); 100 hashes per DELETE /v1/sessions',
    start: (size) => started(new IPRoyalEmulator({ subUsers: makeSubUsers(size, 'bench') })),
    targets: (emu) => [...emu.subUsers.keys()],
    inputs: (emu) => ({ provider: 'iproyal', token: IPROYAL_TOKEN, 'base-url': emu.baseUrl }),
    curl: (emu) =>
      `curl -s -o /dev/null -w '%{http_code}' -X DELETE '${emu.baseUrl}/sessions' -H 'Authorization: Bearer ${IPROYAL_TOKEN}' -H 'Content-Type: application/json' -d "{\\"residential_user_hashes\\":[\\"$t\\"]}"`
  },
  {
    provider: 'box',
    sizes: [1000, 10_000],
    rateLimit: 30_000,
    latencyMs: 20,
    concurrency: 16,
    note: 'targets are every user id of an enterprise of the same size: resolved by reading the enterprise user list (GET /users, 1,000 a page; the first page, offset 0, answers total_count, which sizes the rest) instead of one GET /users/{id} each, then 50 ids per POST /users/terminate_sessions {user_ids, user_logins: []}',
    start: (size) => started(new BoxEmulator({ users: makeBoxUsers(size) })),
    targets: (emu) => [...emu.users.keys()],
    inputs: (emu) => ({ provider: 'box', token: BOX_DEVELOPER_TOKEN, 'base-url': emu.baseUrl }),
    curl: (emu) =>
      `curl -s -o /dev/null -w '%{http_code}' -X POST '${emu.baseUrl}/users/terminate_sessions' -H 'Authorization: Bearer ${BOX_DEVELOPER_TOKEN}' -H 'Content-Type: application/json' -d "{\\"user_ids\\":[\\"$t\\"],\\"user_logins\\":[]}"`
  },
  {
    provider: 'huaweicloud',
    sizes: [1000, 10_000],
    rateLimit: 30_000,
    latencyMs: 20,
    concurrency: 16,
    note: 'targets are user ids: one GET …/sessions each (plan), then one signed POST …/sessions/batch-delete per user',
    start: (size) => started(new HuaweiCloudEmulator({ users: makeHwUsers(size, { prefix: 'bench', sessionsFor: () => 2 }) })),
    targets: (emu) => [...emu.users.keys()],
    inputs: (emu) => ({
      provider: 'huaweicloud',
      region: 'ap-southeast-1',
      'base-url': emu.origin,
      'identity-store-id': HW_STORE_ID,
      'access-key-id': HW_AK,
      token: HW_SK
    })
  },
  {
    provider: 'denovolab',
    sizes: [1000, 10_000],
    rateLimit: 30_000,
    latencyMs: 20,
    concurrency: 16,
    note: 'targets are user ids: one GET /user/{id} each (plan: every account is verified before it is deleted), then one DELETE /user/{id} each. That is two calls per target where the curl loop sends one unverified DELETE, so per target the speed-up is half the per-call one; the rate limit, not the action, sets the pace (ratio to the bound ≈ 1.0)',
    start: (size) => started(new DnlEmulator({ users: makeDnlUsers(size) })),
    targets: (emu) => [...emu.users.keys()].map(String),
    // The action deleted them: the curl loop gets the same accounts back.
    restore: (emu, size) => emu.resetState(makeDnlUsers(size)),
    inputs: (emu) => ({ provider: 'denovolab', token: DNL_ADMIN_TOKEN, 'base-url': emu.baseUrl }),
    curl: (emu) =>
      `curl -s -o /dev/null -w '%{http_code}' -X DELETE '${emu.baseUrl}/user/'"$t" -H 'X-Auth-Token: ${DNL_ADMIN_TOKEN}' -H 'accept: application/json'`
  },
  {
    provider: 'entra',
    sizes: [1000, 10_000],
    rateLimit: 30_000,
    latencyMs: 20,
    concurrency: 16,
    note: 'targets are user object ids: looked up 20 to a $batch (GET /users/{id} items), then revoked 20 to a $batch (POST /users/{id}/microsoft.graph.revokeSignInSessions items), one client-secret token: 2 × ceil(N/20) + 1 calls. Faults hit whole $batch requests (retried whole: every item is a read or a revoke). The curl loop sends one direct POST /users/{id}/revokeSignInSessions per user with a token minted beforehand',
    start: async (size) => {
      const emu = await started(new EntraEmulator({ users: makeEntraUsers(size) }))
      // A token for the curl loop, minted before the run like an admin would (not counted: the request log is reset before the loop).
      emu.benchToken = (await emu.mintAccessToken('secret')).body.access_token
      return emu
    },
    targets: (emu) => [...emu.users.keys()],
    inputs: (emu) => ({ provider: 'entra', ...emu.inputs(), token: ENTRA_CLIENT_SECRET }),
    curl: (emu) =>
      `curl -s -o /dev/null -w '%{http_code}' -X POST '${emu.baseUrl}/users/'"$t"'/revokeSignInSessions' -H 'Authorization: Bearer ${emu.benchToken}'`
  },
  {
    provider: 'slack',
    sizes: [1000, 10_000],
    rateLimit: 30_000,
    latencyMs: 20,
    concurrency: 16,
    note: 'targets are emails, the usual offboarding input: one GET users.lookupByEmail each (plan), then 1,000 user ids per POST admin.users.session.resetBulk (form-encoded). Targets given as user ids skip the lookups: 1 call per 1,000 targets. The curl loop does what a script would do per email: a lookup, then one admin.users.session.reset (two requests per target)',
    start: (size) => started(new SlackEmulator({ users: makeSlackUsers(size) })),
    targets: (emu) => [...emu.users.values()].map((u) => u.email),
    inputs: (emu) => ({ provider: 'slack', token: SLACK_ADMIN_TOKEN, 'base-url': emu.baseUrl }),
    curl: (emu) =>
      `id=$(curl -s -G '${emu.baseUrl}/users.lookupByEmail' --data-urlencode "email=$t" -H 'Authorization: Bearer ${SLACK_ADMIN_TOKEN}' | sed -n 's/.*"user":{"id":"\\([^"]*\\)".*/\\1/p'); curl -s -o /dev/null -w '%{http_code}' -X POST '${emu.baseUrl}/admin.users.session.reset' -H 'Authorization: Bearer ${SLACK_ADMIN_TOKEN}' --data-urlencode "user_id=$id"`
  },
  {
    provider: 'okta',
    sizes: [1000, 10_000],
    rateLimit: 30_000,
    latencyMs: 20,
    concurrency: 16,
    note: "targets are every user id of an org of the same size: resolved from the org's user list (GET /api/v1/users, 200 a page, Link after cursor) instead of one GET /users/{id} each, then one DELETE /api/v1/users/{id}/sessions?oauthTokens=true per user. Okta's own per-minute buckets are raised out of the way (the 10,000 run would take about 17 minutes at Okta's default 600 session clears a minute per token); the emulator's per-second window is the limit",
    start: (size) =>
      started(
        new OktaEmulator({
          users: makeOktaUsers(size),
          rateLimits: { users: 1e7, user: 1e7, sessions: 1e7, group: 1e7, groups: 1e7, other: 1e7, token: 1e7 },
          concurrencyLimit: 1000
        })
      ),
    targets: (emu) => [...emu.users.keys()],
    inputs: (emu) => ({ provider: 'okta', token: OKTA_API_TOKEN, 'base-url': emu.origin }),
    curl: (emu) =>
      `curl -s -o /dev/null -w '%{http_code}' -X DELETE '${emu.origin}/api/v1/users/'"$t"'/sessions?oauthTokens=true' -H 'Authorization: SSWS ${OKTA_API_TOKEN}' -H 'Accept: application/json'`
  },
  {
    provider: 'google',
    sizes: [1000, 10_000],
    rateLimit: 30_000,
    latencyMs: 20,
    concurrency: 16,
    note: "targets are the primary emails of every user of an account of the same size, with a pre-minted access token: resolved to user ids by reading the user list (users.list, 500 a page, 20 pages for 10,000) instead of one users.get each, then one POST …/users/{id}/signOut per user (Google has no bulk sign-out). The emulator's own per-minute quota is off; its 1-second window answers Google's 403 userRateLimitExceeded",
    start: async (size) => {
      const emu = await started(new GoogleEmulator({ users: makeGoogleUsers(size), quota: false }))
      emu.benchToken = emu.registerAccessToken({ ttlSeconds: 6 * 3600 })
      return emu
    },
    targets: (emu) => [...emu.users.values()].filter((u) => !u.isAdmin).map((u) => u.primaryEmail),
    inputs: (emu) => ({ provider: 'google', token: emu.benchToken, 'base-url': emu.baseUrl }),
    curl: (emu) =>
      `curl -s -o /dev/null -w '%{http_code}' -X POST '${emu.baseUrl}/admin/directory/v1/users/'"$t"'/signOut' -H 'Authorization: Bearer ${emu.benchToken}' -d ''`
  }
]
