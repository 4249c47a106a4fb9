// Auth: one shape for every way a provider proves who it is — a fixed header (API token), a token
// minted and renewed once on 401 (OAuth client credentials, a password), or a signature made for each
// attempt (Huawei's AK/SK). The client asks for headers just before each attempt is sent.
import type { Clock } from '../clock.js'
import { ProviderRequestError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { PreparedRequest } from './transport.js'

export interface Authorization {
  headers: Record<string, string>
  /** Which credential these headers carry; handed back to renew() after a 401. */
  used: string
}

export interface Credentials {
  /** Runs before the request takes a slot on the wire: may send requests itself (minting a token). */
  ready?(): Promise<void>
  /** Headers for one attempt, made just before it is sent (a signature carries the time). */
  authorize(req: PreparedRequest, now: number): Authorization
  /**
   * Called when the request sent with `used` got 401. True: fresh credentials are current, send the
   * request once more. False: the credentials themselves are wrong; the run stops.
   */
  renew?(used: string): Promise<boolean>
}

/** A fixed credential: an API token in a header. A 401 means it is wrong. */
export function staticCredentials(headers: Record<string, string>): Credentials {
  return { authorize: () => ({ headers, used: 'static' }) }
}

export interface Minted {
  token: string
  /** Lifetime in seconds, when the issuer says. */
  expiresIn?: number
}

export interface MintedTokenOptions {
  /** Mints a token (through the run's HTTP client, with `auth: null`). Throws ProviderRequestError. */
  mint: () => Promise<Minted>
  /** The headers that carry a token. */
  header: (token: string) => Record<string, string>
  /** Registers the minted token as a secret before it is used anywhere. */
  addSecret: (value: string) => void
  clock: Clock
  log: Logger
  /** What is minted, for log lines and errors ("a Box Client Credentials token"). */
  label: string
  /** How to fix a refused mint, appended to the error. */
  hint?: (err: ProviderRequestError) => string
  /** Re-mint this long before the stated expiry. */
  marginMs?: number
  /** How many times a run may re-mint after a 401 (expiry mid-run), in all. */
  maxRenewals?: number
}

/**
 * A token minted on first use, masked at once, re-minted shortly before it expires and once after a
 * 401 (concurrent workers share one mint). A refused mint stops the run: nothing else can succeed.
 */
export class MintedToken implements Credentials {
  private current: string | undefined
  private expiresAt = Number.POSITIVE_INFINITY
  private minting: Promise<void> | undefined
  private renewals = 0

  constructor(private readonly o: MintedTokenOptions) {}

  async ready(): Promise<void> {
    if (this.current !== undefined && this.o.clock.now() < this.expiresAt - (this.o.marginMs ?? 60_000)) return
    await this.mint()
  }

  authorize(): Authorization {
    const token = this.current ?? ''
    return { headers: this.o.header(token), used: token }
  }

  async renew(used: string): Promise<boolean> {
    // A mint under way (another worker saw the 401 first): wait for it and use its token.
    if (this.minting) {
      await this.minting
      return this.current !== used
    }
    if (this.current !== used) return true // another worker already re-minted
    if (this.renewals >= (this.o.maxRenewals ?? 5)) return false
    this.renewals++
    this.o.log.info(`the token was refused (401): minting ${this.o.label} again and retrying once`)
    // The refused token stays current until the new one arrives: a request authorized meanwhile
    // carries it, is refused too, and waits here for the same mint.
    await this.mint()
    return this.current !== used
  }

  private mint(): Promise<void> {
    this.minting ??= this.request().finally(() => {
      this.minting = undefined
    })
    return this.minting
  }

  private async request(): Promise<void> {
    let minted: Minted
    try {
      minted = await this.o.mint()
    } catch (err) {
      if (!(err instanceof ProviderRequestError)) throw err
      const hint = this.o.hint?.(err) ?? ''
      throw new ProviderRequestError(
        { ...err.info, message: `minting ${this.o.label} failed: ${err.info.message}${hint ? ` — ${hint}` : ''}` },
        err.attempts,
        true
      )
    }
    // Masked before it is used or could be logged anywhere.
    this.o.addSecret(minted.token)
    this.current = minted.token
    const ttl = minted.expiresIn
    this.expiresAt = ttl !== undefined && ttl > 0 ? this.o.clock.now() + ttl * 1000 : Number.POSITIVE_INFINITY
    this.o.log.debug(`minted ${this.o.label}${ttl ? `, valid ${ttl} s` : ''} (masked)`)
  }
}
