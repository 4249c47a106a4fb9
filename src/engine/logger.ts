import type { ActionSink, AnnotationProps } from './sink.js'
import type { SecretStore } from './secrets.js'

/** Log lines go through the scrubber before they reach the sink. */
export class Logger {
  constructor(
    private readonly sink: ActionSink,
    private readonly secrets: SecretStore
  ) {}

  info(message: string): void {
    this.sink.info(this.secrets.scrub(message))
  }

  debug(message: string): void {
    this.sink.debug(this.secrets.scrub(message))
  }

  warning(message: string, props?: AnnotationProps): void {
    this.sink.warning(this.secrets.scrub(message), props)
  }

  /** An error annotation: shown on the run page, the step's result is decided elsewhere. */
  annotate(message: string, props?: AnnotationProps): void {
    this.sink.error(this.secrets.scrub(message), props)
  }

  /** Writes a whole group at once, so groups from concurrent workers never interleave. */
  group(title: string, lines: string[]): void {
    this.sink.startGroup(this.secrets.scrub(title))
    for (const line of lines) this.sink.info(this.secrets.scrub(line))
    this.sink.endGroup()
  }
}
