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

/** A request the client refused to send because the run was halted (credentials were rejected). */
export class RunHaltedError extends Error {
  constructor(
    reason: string,
    /** An earlier attempt was sent and got no usable answer: it may have taken effect. */
    readonly afterAttempt = false
  ) {
    super(afterAttempt ? `stopped before a retry: ${reason}; an earlier attempt got no usable answer and may have taken effect` : `not attempted: ${reason}`)
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
