// Benchmark workloads, one per provider: how to build an emulator holding `size` targets, the
// target ids, the action inputs, and the curl command a user would loop over.
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from '../__tests__/emulators/iproyal/index.js'

export const benchScenarios = [
  {
    provider: 'iproyal',
    sizes: [1000, 10_000, 100_000],
    rateLimit: 3000,
    latencyMs: 50,
    concurrency: 4,
    note: '100 hashes per DELETE /v1/sessions',
    async start(size) {
      const emu = new IPRoyalEmulator({ subUsers: makeSubUsers(size, 'bench') })
      await emu.start()
      return emu
    },
    targets: (emu) => [...emu.subUsers.keys()],
    inputs: (emu) => ({ provider: 'iproyal', token: IPROYAL_TOKEN, 'base-url': emu.baseUrl }),
    curl: (emu) => `curl -s -o /dev/null -w '%{http_code}' -X DELETE '${emu.baseUrl}/sessions' -H 'Authorization: Bearer ${IPROYAL_TOKEN}' -H 'Content-Type: application/json' -d "{\\"residential_user_hashes\\":[\\"$t\\"]}"`
  }
]
