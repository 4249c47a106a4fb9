// Execution: admin.users.session.resetBulk (up to 1,000 user ids a call; {"ok":true} means Slack queued
// the reset job -> accepted), read so that every user ends with what Slack said about it:
//  - failed_for_some_users naming the users (failed_user_ids): those users failed with their code. Slack
//    does not say whether the others were queued, so they are sent once more on their own, and end
//    accepted on that call's ok (resetting sessions twice is harmless: the user is signed out either way);
//  - failed_for_some_users naming no one, or a code that blames users (user_not_found, cannot_reset_bot,
//    ...) for a call of several: the call is split in halves, each sent again, until every user has an
//    answer of its own. At most MAX_EXTRA_CALLS more calls per batch; users still in a group Slack
//    refused after that fail, saying that their sessions may or may not have been reset;
//  - resetBulk refused as a method (FALLBACK_CODES: the plan, a policy, not offered to this token):
//    from then on every user is reset with admin.users.session.reset, one call each (-> terminated), and
//    the log says so. If reset is refused the same way, the run stops: nothing can reset sessions here.
import { ProviderRequestError, RunHaltedError, describeProviderError } from '../../engine/errors.js'
import type { Http, HttpResponse } from '../../engine/http/client.js'
import type { Logger } from '../../engine/logger.js'
import { mapConcurrent } from '../../engine/pool.js'
import type { BatchOutcome, ProviderErrorInfo } from '../../engine/types.js'
import { z } from 'zod'
import { BLAME_CODES, FALLBACK_CODES, PARTIAL, explain, failedUsers } from './errors.js'

export const METHOD_RESET_BULK = 'admin.users.session.resetBulk'
export const METHOD_RESET = 'admin.users.session.reset'
/** Most user ids resetBulk takes in one call (its method page: "up to 1,000 user IDs"). */
export const RESET_BULK_MAX = 1000
/** More resetBulk calls one batch may spend to find the users Slack refused without naming them. */
export const MAX_EXTRA_CALLS = 40

const okAnswer = z.looseObject({ ok: z.literal(true) })
/** resetBulk's answers that say something per user: ok, or failed_for_some_users (the detail's shape is unconfirmed). */
const bulkAnswer = z.union([okAnswer, z.looseObject({ ok: z.literal(false), error: z.literal(PARTIAL) })])
type BulkAnswer = z.infer<typeof bulkAnswer>

type Answer =
  | { kind: 'ok'; requestId?: string; attempts: number }
  | { kind: 'partial'; failed: Map<string, string>; requestId?: string; attempts: number }
  | { kind: 'blame'; error: ProviderErrorInfo; attempts: number }
  | { kind: 'error'; error: ProviderErrorInfo; attempts: number }
  | { kind: 'halted'; err: RunHaltedError }

/** Calls a batch may still spend on finding the users Slack refused. */
class Budget {
  private left = MAX_EXTRA_CALLS
  take(n: number): boolean {
    if (this.left < n) return false
    this.left -= n
    return true
  }
}

export type SessionScope = 'all' | 'web' | 'mobile'

export interface ResetOptions {
  http: Http
  base: string
  log: Logger
  /** Per-user resets in flight at once in the fallback (the HTTP client and the limiter pace them). */
  concurrency: number
  scope: SessionScope
}

function halted(id: string, err: RunHaltedError): BatchOutcome {
  return { id, outcome: err.mayHaveTakenEffect ? 'unknown' : 'not-attempted', reason: err.message }
}

export class SlackReset {
  private readonly flags: Record<string, string>
  private readonly scopeText: string
  /** Set once resetBulk is refused as a method: why. Every later batch goes user by user. */
  private refusedBulk: ProviderErrorInfo | undefined
  /** The first per-user reset after the switch: it tells whether reset works at all. */
  private probe: Promise<{ id: string; outcome: BatchOutcome; refused?: ProviderErrorInfo }> | undefined

  constructor(private readonly o: ResetOptions) {
    this.flags = o.scope === 'web' ? { web_only: 'true' } : o.scope === 'mobile' ? { mobile_only: 'true' } : {}
    this.scopeText = o.scope === 'web' ? ' (web sessions only)' : o.scope === 'mobile' ? ' (mobile sessions only)' : ''
  }

  async execute(ids: string[]): Promise<BatchOutcome[]> {
    if (this.refusedBulk) return this.perUser(ids)
    let res: HttpResponse<BulkAnswer>
    try {
      res = await this.bulk(ids)
    } catch (err) {
      // A stop (fatal codes, cancellation) goes to the engine, which stops the run; a refusal of the
      // method falls back to reset; codes that blame some of the users make the call split to find them.
      if (!(err instanceof ProviderRequestError) || err.fatal) throw err
      const code = err.info.code
      if (code !== undefined && FALLBACK_CODES.has(code)) {
        this.fallBack(err.info)
        return this.perUser(ids)
      }
      if (code !== undefined && BLAME_CODES.has(code) && ids.length > 1) return this.split(ids, new Budget(), err.info, err.attempts)
      // Any other refusal is about the call, never one of its users: Slack blames users only by code. The
      // batch fails here rather than in the engine, which would split a 404 (a wrong base-url) to find
      // a bad target, sending a thousand calls that can only fail the same way.
      return ids.map((id) => ({ id, outcome: 'failed', error: err.info, attempts: err.attempts }))
    }
    return this.settle(ids, new Budget(), this.answerOf(res))
  }

  private bulk(ids: string[]): Promise<HttpResponse<BulkAnswer>> {
    // Form-encoded, user_ids comma-separated, as Slack's Python and Java SDKs send it; the token only in
    // the Authorization header (the client's credentials).
    return this.o.http.request({
      method: 'POST',
      url: `${this.o.base}/${METHOD_RESET_BULK}`,
      form: { user_ids: ids.join(','), ...this.flags },
      schema: bulkAnswer,
      what: METHOD_RESET_BULK
    })
  }

  private answerOf(res: HttpResponse<BulkAnswer>): Answer {
    if (res.data.ok) return { kind: 'ok', requestId: res.requestId, attempts: res.attempts }
    return { kind: 'partial', failed: failedUsers(res.data), requestId: res.requestId, attempts: res.attempts }
  }

  /** One more resetBulk call, its failure read as an answer rather than thrown. */
  private async attempt(ids: string[]): Promise<Answer> {
    try {
      return this.answerOf(await this.bulk(ids))
    } catch (err) {
      if (err instanceof RunHaltedError) return { kind: 'halted', err }
      if (!(err instanceof ProviderRequestError)) throw err
      const code = err.info.code
      if (!err.fatal && code !== undefined && BLAME_CODES.has(code)) return { kind: 'blame', error: err.info, attempts: err.attempts }
      return { kind: 'error', error: err.info, attempts: err.attempts }
    }
  }

  private accepted(id: string, a: { requestId?: string; attempts: number }, again: boolean): BatchOutcome {
    const note = again ? ' (sent again on its own after Slack refused other users of its first call)' : ''
    return {
      id,
      outcome: 'accepted',
      reason: `queued by Slack: ${METHOD_RESET_BULK} answered ok${this.scopeText}${note}; the sessions end when Slack runs the job`,
      requestId: a.requestId,
      attempts: a.attempts
    }
  }

  /** Outcomes for `ids` from `answer` (or from a new call when there is none yet). */
  private async settle(ids: string[], budget: Budget, answer?: Answer, again = false): Promise<BatchOutcome[]> {
    const a = answer ?? (await this.attempt(ids))
    switch (a.kind) {
      case 'ok':
        return ids.map((id) => this.accepted(id, a, again))
      case 'halted':
        return ids.map((id) => halted(id, a.err))
      case 'error':
        return ids.map((id) => ({ id, outcome: 'failed', error: a.error, attempts: a.attempts }))
      case 'blame':
        return this.split(ids, budget, a.error, a.attempts)
      case 'partial': {
        const named = ids.filter((id) => a.failed.has(id))
        if (named.length === 0) {
          const error: ProviderErrorInfo = {
            status: 200,
            code: PARTIAL,
            message: 'Slack answered failed_for_some_users without naming the users',
            requestId: a.requestId
          }
          return this.split(ids, budget, error, a.attempts)
        }
        const out: BatchOutcome[] = named.map((id) => {
          const code = a.failed.get(id) ?? PARTIAL
          return {
            id,
            outcome: 'failed',
            error: { status: 200, code, message: `${explain(code)} (named in ${METHOD_RESET_BULK}'s failed_for_some_users answer)`, requestId: a.requestId },
            attempts: a.attempts
          }
        })
        const rest = ids.filter((id) => !a.failed.has(id))
        if (rest.length === 0) return out
        if (!budget.take(1)) {
          const error: ProviderErrorInfo = {
            status: 200,
            code: PARTIAL,
            message: `Slack refused other users of this call (failed_for_some_users); whether it queued this user's reset is not documented, and the ${MAX_EXTRA_CALLS} more calls allowed to confirm it are spent: run again for this user (a second reset is harmless)`,
            requestId: a.requestId
          }
          return [...out, ...rest.map((id): BatchOutcome => ({ id, outcome: 'failed', error, attempts: a.attempts }))]
        }
        // Slack does not document whether the users it did not name were queued: ask again for them alone.
        this.o.log.debug(
          `${METHOD_RESET_BULK}: failed_for_some_users named ${named.length} of ${ids.length} users; sending the other ${rest.length} again to confirm them`
        )
        return [...out, ...(await this.settle(rest, budget, undefined, true))]
      }
    }
  }

  /** Splits a call Slack refused for some of its users into halves, sent again, until each user has its own answer. */
  private async split(ids: string[], budget: Budget, error: ProviderErrorInfo, attempts: number): Promise<BatchOutcome[]> {
    if (ids.length === 1) {
      const message = error.code === PARTIAL ? `Slack refused to reset this user's sessions (failed_for_some_users, no reason given)` : error.message
      return [{ id: ids[0], outcome: 'failed', error: { ...error, message }, attempts }]
    }
    if (!budget.take(2)) {
      const message = `${error.message}; Slack did not say which of the ${ids.length} users of this call it refused, and the ${MAX_EXTRA_CALLS} more calls allowed to find them are spent: this user's sessions may or may not have been reset; run again for it (a second reset is harmless)`
      return ids.map((id) => ({ id, outcome: 'failed', error: { ...error, message }, attempts }))
    }
    this.o.log.debug(
      `${METHOD_RESET_BULK}: ${describeProviderError(error)} for a call of ${ids.length} users; sending it again in two halves to find the user(s) refused`
    )
    const half = Math.ceil(ids.length / 2)
    const [first, second] = await Promise.all([this.settle(ids.slice(0, half), budget, undefined, true), this.settle(ids.slice(half), budget, undefined, true)])
    return [...first, ...second]
  }

  private fallBack(info: ProviderErrorInfo): void {
    if (this.refusedBulk) return
    this.refusedBulk = info
    this.o.log.warning(
      `${METHOD_RESET_BULK} was refused (${describeProviderError(info)}): resetting sessions one user at a time with ${METHOD_RESET} instead. It is rate limited at Tier 2 (about 20 calls a minute): for a long list set rate-limit: 20 and raise max-wait-seconds.`
    )
  }

  /** The fallback: one admin.users.session.reset per user (-> terminated). */
  private async perUser(ids: string[]): Promise<BatchOutcome[]> {
    const out: BatchOutcome[] = []
    let rest = ids
    if (this.probe === undefined) {
      this.probe = this.resetOne(ids[0])
      rest = ids.slice(1)
    }
    const p = await this.probe
    if (p.refused) {
      // reset is refused like resetBulk: nothing can reset sessions with this token and plan.
      throw new ProviderRequestError({ ...p.refused, message: `${p.refused.message}; ${METHOD_RESET} is refused too, after ${METHOD_RESET_BULK}` }, 1, true)
    }
    if (rest !== ids) out.push(p.outcome)
    out.push(...(await mapConcurrent(rest, this.o.concurrency, (id) => this.resetOne(id).then((r) => r.outcome))))
    return out
  }

  private async resetOne(id: string): Promise<{ id: string; outcome: BatchOutcome; refused?: ProviderErrorInfo }> {
    try {
      const res = await this.o.http.request({
        method: 'POST',
        url: `${this.o.base}/${METHOD_RESET}`,
        form: { user_id: id, ...this.flags },
        schema: okAnswer,
        what: METHOD_RESET
      })
      const why = this.refusedBulk?.code ?? 'refused'
      return {
        id,
        outcome: {
          id,
          outcome: 'terminated',
          reason: `sessions reset by ${METHOD_RESET}${this.scopeText} (${METHOD_RESET_BULK} was ${why})`,
          requestId: res.requestId,
          attempts: res.attempts
        }
      }
    } catch (err) {
      if (err instanceof RunHaltedError) return { id, outcome: halted(id, err) }
      if (!(err instanceof ProviderRequestError)) throw err
      const code = err.info.code
      const refused = !err.fatal && code !== undefined && FALLBACK_CODES.has(code) ? err.info : undefined
      return { id, outcome: { id, outcome: 'failed', error: err.info, attempts: err.attempts }, refused }
    }
  }
}
