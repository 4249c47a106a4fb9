import type { ProviderErrorInfo } from './types.js'

/** A bad input: names the input and the fix. Raised before any request is sent. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    problem: string,
    readonly fix: string
  ) {
    super(`Input '${input}': ${problem}. Fix: ${fix}`)
    this.name = 'InputError'
  }
}

/** A plan that a guard refused: raised after planning, before any mutating request. */
export class GuardError extends Error {
  constructor(
    readonly input: string,
    message: string
  ) {
    super(message)
    this.name = 'GuardError'
  }
}

/** A provider call that ended without success after the retries it was allowed. */
export class ProviderRequestError extends Error {
  constructor(
    readonly info: ProviderErrorInfo,
    readonly attempts: number,
    /** The run cannot go on (authentication failed): the engine stops sending requests. */
    readonly fatal = false
  ) {
    super(describeProviderError(info))
    this.name = 'ProviderRequestError'
  }
}

/** The code every provider's "the answer was not what the API documents" failure carries. */
export const UNEXPECTED_RESPONSE = 'unexpected-response'

/**
 * The one way to say a provider answered outside its documented contract (a 2xx with a body that
 * says failure, an HTML sign-in page, a list without its list). Never retried.
 */
export function unexpectedResponse(status: number | undefined, what: string, requestId?: string): ProviderRequestError {
  return new ProviderRequestError({ status, code: UNEXPECTED_RESPONSE, message: what, requestId }, 1)
}

/**
 * A request the client did not send, or whose answer it did not wait for, because the run stopped:
 * the credentials were rejected, or the run was cancelled.
 */
export class RunHaltedError extends Error {
  constructor(
    readonly reason: string,
    /**
     * The request (or an earlier attempt of it) reached the wire and got no usable answer: it may
     * have taken effect. The target's outcome is then `unknown`, not `not-attempted`.
     */
    readonly mayHaveTakenEffect = false
  ) {
    super(mayHaveTakenEffect ? `unknown: ${reason} while its request was in flight; it may have taken effect` : `not attempted: ${reason}`)
    this.name = 'RunHaltedError'
  }
}

export function describeProviderError(info: ProviderErrorInfo): string {
  const parts = [info.status !== undefined ? `HTTP ${info.status}` : 'no response']
  if (info.code) parts.push(`code ${info.code}`)
  let text = `${parts.join(', ')}: ${info.message}`
  if (info.requestId) text += ` (request id ${info.requestId})`
  return text
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
