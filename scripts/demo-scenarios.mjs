// The demo's scenarios: one per provider, each with its emulator and the inputs an admin would give.
import { BOX_CLIENT_ID, BOX_CLIENT_SECRET, BOX_ENTERPRISE_ID, BoxEmulator, makeUsers as makeBoxUsers } from '../__tests__/emulators/box/index.js'
import { DNL_PASSWORD, DNL_USERNAME, DnlEmulator, makeUsers as makeDnlUsers } from '../__tests__/emulators/denovolab/index.js'
import { ENTRA_CLIENT_SECRET, EntraEmulator, guidFor, makeGuest, makeUsers as makeEntraUsers } from '../__tests__/emulators/entra/index.js'
import { GOOGLE_ADMIN, GoogleEmulator, makeUsers as makeGoogleUsers } from '../__tests__/emulators/google/index.js'
import { HW_AK, HW_SK, HuaweiCloudEmulator, makeUsers as makeHwUsers } from '../__tests__/emulators/huaweicloud/index.js'
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from '../__tests__/emulators/iproyal/index.js'
import { OKTA_CLIENT_ID, OktaEmulator, makeGroup as makeOktaGroup, makeUsers as makeOktaUsers } from '../__tests__/emulators/okta/index.js'
import { SLACK_ADMIN_TOKEN, SlackEmulator } from '../__tests__/emulators/slack/index.js'

export const scenarios = [
  {
    provider: 'iproyal',
    title: 'IPRoyal — reset the proxy sessions of sub-users found by name',
    async start() {
      const emu = new IPRoyalEmulator({ subUsers: makeSubUsers(40, 'contractor') })
      await emu.start()
      return emu
    },
    inputs: (emu) => ({
      provider: 'iproyal',
      token: IPROYAL_TOKEN,
      'base-url': emu.baseUrl,
      'target-type': 'username',
      targets: 'contractor3\ncontractor17\ncontractor40\nformer-intern',
      // former-intern has no sub-user: reported as unresolved; with the default (fail) the step would fail after the rest.
      'if-unresolved': 'skip'
    }),
    after: (emu) => console.log(`\nemulator: sessions reset for ${emu.resets.size} sub-users`)
  },
  {
    provider: 'box',
    title: 'Box — a user by id, a user by login, a group, and a login that does not exist (Client Credentials Grant)',
    async start() {
      const users = makeBoxUsers(12)
      const emu = new BoxEmulator({ users, groups: [{ id: '5550001', name: 'Contractors', members: users.slice(6, 9).map((u) => u.id) }] })
      await emu.start()
      return emu
    },
    inputs: (emu) => ({
      provider: 'box',
      token: BOX_CLIENT_SECRET,
      'client-id': BOX_CLIENT_ID,
      'enterprise-id': BOX_ENTERPRISE_ID,
      'base-url': emu.baseUrl,
      'auth-base-url': emu.authBaseUrl,
      targets: '1000003\nuser5@example.com\ngroup:5550001\nghost@example.com',
      'if-unresolved': 'skip'
    }),
    // Minting the OAuth token is a POST but changes nothing: only terminate calls mutate.
    isMutating: (q) => q.path.endsWith('/terminate_sessions'),
    after: (emu) => console.log(`\nemulator: ${emu.jobs.length} termination jobs queued`)
  },
  {
    provider: 'huaweicloud',
    title: 'Huawei Cloud — delete the login sessions of users by name (identity store discovered, AK/SK signed)',
    async start() {
      const emu = new HuaweiCloudEmulator({ users: makeHwUsers(6, { sessionsFor: (i) => (i === 4 ? 0 : i) }) })
      await emu.start()
      return emu
    },
    inputs: (emu) => ({
      provider: 'huaweicloud',
      region: 'ap-southeast-1',
      'base-url': emu.origin,
      'auth-base-url': emu.origin,
      'access-key-id': HW_AK,
      token: HW_SK,
      'target-type': 'user-name',
      targets: 'user2\nuser3\nuser4'
    }),
    after: (emu) => console.log(`\nemulator: ${emu.deleteCalls.length} batch-delete calls, ${emu.authFailures.length} signature failures`)
  },
  {
    provider: 'denovolab',
    title: 'DeNovoLab — DELETE the accounts of inactive agents (snapshot, then exactly those ids; token minted from a portal login)',
    async start() {
      const emu = new DnlEmulator({ users: makeDnlUsers(40) })
      await emu.start()
      return emu
    },
    inputs: (emu) => ({ provider: 'denovolab', 'base-url': emu.baseUrl, username: DNL_USERNAME, token: DNL_PASSWORD, filter: 'user_type=agent\nactive=false' }),
    after: (emu) => console.log(`\nemulator: accounts deleted: ${emu.deleted.join(', ')}`)
  },
  {
    provider: 'entra',
    title:
      'Microsoft Entra ID — revoke the sign-in sessions of a user by id, a user by UPN and a nested group (a guest and an unknown UPN skipped; client secret)',
    async start() {
      const users = makeEntraUsers(12)
      const guest = makeGuest('partner@fabrikam.com')
      const sales = guidFor(1, 500)
      const emea = guidFor(2, 500)
      const emu = new EntraEmulator({
        users: [...users, guest],
        groups: [
          { id: sales, displayName: 'Sales', members: [users[6].id, emea] },
          { id: emea, displayName: 'Sales EMEA', members: [users[7].id, guest.id] }
        ]
      })
      await emu.start()
      emu.demoTargets = [users[2].id, users[4].userPrincipalName, `group:${sales}`, 'former.employee@contoso.onmicrosoft.com'].join('\n')
      return emu
    },
    inputs: (emu) => ({ provider: 'entra', ...emu.inputs(), token: ENTRA_CLIENT_SECRET, targets: emu.demoTargets, 'if-unresolved': 'skip' }),
    // Lookups are $batch POSTs too: only a batch that carries a revoke item changes anything.
    isMutating: (q) => q.path === '/v1.0/$batch' && (q.json?.requests ?? []).some((i) => i.method === 'POST'),
    after: (emu) =>
      console.log(
        `\nemulator: sign-in sessions revoked for ${emu.revokedUserIds().length} users: ${emu.revocations.map((r) => r.userPrincipalName).join(', ')}`
      )
  },
  {
    provider: 'slack',
    title: 'Slack Enterprise Grid — reset the sessions of users by id and by email (one resetBulk call), an email nobody has skipped',
    async start() {
      const emu = new SlackEmulator()
      await emu.start()
      return emu
    },
    inputs: (emu) => ({
      provider: 'slack',
      token: SLACK_ADMIN_TOKEN,
      'base-url': emu.baseUrl,
      targets: 'W00000001\nuser2@example.com\nuser6@example.com\nformer.employee@example.com',
      'if-unresolved': 'skip'
    }),
    after: (emu) => console.log(`\nemulator: ${emu.jobs.length} resetBulk job(s) queued for ${emu.resetUserIds().join(', ')}`)
  },
  {
    provider: 'okta',
    title:
      'Okta — clear the sessions and OAuth tokens of a user by id, a user by login and a group (an unknown login skipped; API service app, private_key_jwt with an EC JWK)',
    async start() {
      const users = makeOktaUsers(12)
      const emu = new OktaEmulator({
        users,
        groups: [
          makeOktaGroup(
            1,
            'Contractors',
            users.slice(6, 9).map((u) => u.id)
          )
        ]
      })
      await emu.start()
      emu.demoTargets = [users[2].id, 'user5@example.com', `group:${makeOktaGroup(1, 'Contractors', []).id}`, 'former.employee@example.com'].join('\n')
      return emu
    },
    inputs: (emu) => ({
      provider: 'okta',
      'base-url': emu.origin,
      'client-id': OKTA_CLIENT_ID,
      token: JSON.stringify(emu.appKeys.ec.privateJwk),
      targets: emu.demoTargets,
      'if-unresolved': 'skip'
    }),
    // Minting the access token is a POST but changes nothing: only the session DELETEs do.
    isMutating: (q) => q.method === 'DELETE',
    after: (emu) =>
      console.log(`\nemulator: sessions cleared (OAuth tokens too: ${emu.revocations.every((r) => r.oauthTokens)}) for ${emu.revokedUserIds().length} users`)
  },
  {
    provider: 'google',
    title:
      'Google Workspace — sign out a user by email and one by alias, revoking their OAuth tokens (service-account key with subject; an unknown address skipped)',
    async start() {
      const emu = new GoogleEmulator({ users: makeGoogleUsers(12), quota: false })
      await emu.start()
      return emu
    },
    inputs: (emu) => ({
      provider: 'google',
      token: emu.serviceAccountKeyJson(),
      subject: GOOGLE_ADMIN,
      'base-url': emu.baseUrl,
      targets: 'user6@example.com\nalias7@example.com\nformer.employee@example.com',
      'revoke-tokens': 'true',
      'if-unresolved': 'skip'
    }),
    // Minting the access token is a POST but changes nothing: only sign-outs and token deletions mutate.
    isMutating: (q) => q.path.endsWith('/signOut') || q.method === 'DELETE',
    after: (emu) =>
      console.log(
        `\nemulator: signed out ${[...emu.signedOutEmails()].join(', ')}; OAuth tokens revoked: ${emu.revokedTokens.map((t) => `${t.primaryEmail} ${t.displayText}`).join(', ')}`
      )
  }
]
