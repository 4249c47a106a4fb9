/**
 * The one place that decides the run is stopping, and why: credentials rejected (halt: nothing new is
 * sent, requests on the wire finish) or the job cancelled (cancel: nothing new is sent and requests
 * on the wire are abandoned, their targets marked unknown). Every worker and the HTTP client ask it.
 */
export class RunControl {
  private readonly abort = new AbortController()
  private haltReason: string | undefined
  private cancelReason: string | undefined
  private wake: () => void = () => {}
  /** Resolves when the run is cancelled: waits race against it. */
  readonly cancelled: Promise<void> = new Promise((resolve) => {
    this.wake = resolve
  })

  /** Stops sending: the credentials were rejected. Requests already on the wire finish. */
  halt(reason: string): void {
    this.haltReason ??= reason
  }

  /** Stops everything: the job was cancelled (SIGINT/SIGTERM). Requests on the wire are aborted. */
  cancel(reason: string): void {
    if (this.cancelReason !== undefined) return
    this.cancelReason = reason
    this.haltReason ??= reason
    this.abort.abort(new Error(reason))
    this.wake()
  }

  /** Why the run stopped, if it did. */
  get stopped(): string | undefined {
    return this.haltReason
  }

  get cancelledBy(): string | undefined {
    return this.cancelReason
  }

  /** Aborts requests on the wire when the run is cancelled. */
  get signal(): AbortSignal {
    return this.abort.signal
  }

  /** Sleeps `ms` on `sleep`, or less when the run is cancelled meanwhile. */
  async sleep(sleep: (ms: number) => Promise<void>, ms: number): Promise<void> {
    if (this.cancelReason !== undefined) return
    await Promise.race([sleep(ms), this.cancelled])
  }
}
