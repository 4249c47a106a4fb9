// The shared limiter, seen from the provider's side: the emulator counts what arrives.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { IPRoyalEmulator, IPROYAL_TOKEN, makeSubUsers } from './emulators/iproyal/index.js'
import { runAction } from './helpers/run-action.js'

const emu = new IPRoyalEmulator({ subUsers: makeSubUsers(60) })
let baseUrl = ''
beforeAll(async () => {
  baseUrl = await emu.start()
})
afterAll(() => emu.stop())
beforeEach(() => emu.server.reset())

const isDelete = (q: { method: string }): boolean => q.method === 'DELETE'

describe('shared rate limiter', () => {
  it('keeps every worker together within rate-limit', async () => {
    const targets = [...emu.subUsers.keys()].slice(0, 30)
    const r = await runAction({
      inputs: {
        provider: 'iproyal',
        token: IPROYAL_TOKEN,
        'base-url': baseUrl,
        targets: targets.join(','),
        'batch-size': '1',
        concurrency: '8',
        'rate-limit': '600',
        'max-targets': '100'
      }
    })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('30')
    const deletes = emu.server.requests.filter(isDelete)
    expect(deletes).toHaveLength(30)
    // 600/min = 10/s: no 1-second window may hold more than 10 (+1 for the window edge).
    expect(emu.server.peakInWindow(1000, isDelete)).toBeLessThanOrEqual(11)
    // 29 gaps of 100 ms, less the arrival jitter of a loaded machine (four test files run at once):
    // unpaced, 30 requests at concurrency 8 would arrive within a few tens of milliseconds.
    const span = deletes[deletes.length - 1].at - deletes[0].at
    expect(span).toBeGreaterThanOrEqual(29 * 100 - 200)
  })

  it('keeps at most `concurrency` requests on the wire, even while other tasks wait to retry', async () => {
    const targets = [...emu.subUsers.keys()].slice(0, 24)
    emu.server.latencyMs = 120
    emu.server.setFaultRate(0.3, [{ kind: 'status', status: 503 }], { match: isDelete, seed: 5 })
    const r = await runAction({
      inputs: {
        provider: 'iproyal',
        token: IPROYAL_TOKEN,
        'base-url': baseUrl,
        targets: targets.join(','),
        'batch-size': '1',
        concurrency: '3',
        'rate-limit': '6000',
        'max-targets': '100'
      }
    })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('24')
    expect(emu.server.counters.faults).toBeGreaterThan(0)
    expect(emu.server.peakInFlight).toBeLessThanOrEqual(3)
    expect(emu.server.peakInFlight).toBeGreaterThanOrEqual(2)
  })

  it('slows every worker when the provider throttles one of them', async () => {
    const targets = [...emu.subUsers.keys()].slice(0, 16)
    // The 4th DELETE is answered 429 Retry-After: 2.
    let seen = 0
    emu.server.queueFaults([{ kind: 'throttle', retryAfter: 'seconds', seconds: 2 }], (q) => isDelete(q) && ++seen === 4)
    const r = await runAction({
      inputs: {
        provider: 'iproyal',
        token: IPROYAL_TOKEN,
        'base-url': baseUrl,
        targets: targets.join(','),
        'batch-size': '1',
        concurrency: '6',
        'rate-limit': '1200',
        'max-targets': '100'
      }
    })
    expect(r.code).toBe(0)
    expect(r.outputs['terminated-count']).toBe('16')
    const deletes = emu.server.requests.filter(isDelete)
    const throttled = deletes.findIndex((q: { status?: number }) => q.status === 429)
    expect(throttled).toBeGreaterThanOrEqual(0)
    const next = deletes[throttled + 1]
    // No worker sent anything during the 2 s the provider asked for. Requests the limiter granted before the
    // client read the 429 may still arrive just after it (on a loaded machine, up to a few hundred ms later).
    // Without the shared pause, at 20 requests a second about 28 would arrive in that window.
    const inPause = deletes.slice(throttled + 1).filter((q: { at: number }) => q.at - deletes[throttled].at > 500 && q.at - deletes[throttled].at < 1900)
    expect(inPause).toEqual([])
    expect(next.at - deletes[throttled].at).toBeGreaterThanOrEqual(0)
    expect(emu.server.requests.filter(isDelete).length).toBe(17)
  })
})
