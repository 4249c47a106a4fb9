// The demo's scenarios: one per provider, each with its emulator and the inputs an admin would give.
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from '../__tests__/emulators/iproyal/index.js'

export const scenarios = [
  {
    provider: 'iproyal',
    title: 'IPRoyal — reset the proxy sessions of sub-users found by name',
    async start() {
      const emu = new IPRoyalEmulator({ subUsers: makeSubUsers(40, 'contractor') })
      await emu.start()
      return emu
    },
    inputs: (emu) => ({ provider: 'iproyal', token: IPROYAL_TOKEN, 'base-url': emu.baseUrl, 'target-type': 'username', targets: 'contractor3\ncontractor17\ncontractor40\nformer-intern' }),
    after: (emu) => console.log(`\nemulator: sessions reset for ${[...emu.resets.keys()].length} sub-users`)
  }
]
