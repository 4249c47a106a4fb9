import type { ActionSink, AnnotationProps } from './sink.js'
import type { SecretStore } from './secrets.js'

/**
 * Makes text safe to print in a workflow log: line breaks become visible `\n`/`\r` (so provider text
 * cannot start a line of its own) and `::` is broken with a zero-width space (so it cannot form a
 * workflow command such as `::add-mask::` or `::error::`). Applied to every line the action logs.
 */
export function escapeLogText(text: string): string {
  return text
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n')
    .replace(/::/g, ':\u200b:')
    .replace(/^(\s*)##\[/, '$1#\u200b#[')
}

/** Log lines go through the scrubber, then the escaper, before they reach the sink. */
export class Logger {
  constructor(
    private readonly sink: ActionSink,
    private readonly secrets: SecretStore
  ) {}

  /** Scrubbed and escaped, as every line the action logs. */
  clean(message: string): string {
    return escapeLogText(this.secrets.scrub(message))
  }

  info(message: string): void {
    this.sink.info(this.clean(message))
  }

  debug(message: string): void {
    this.sink.debug(this.clean(message))
  }

  warning(message: string, props?: AnnotationProps): void {
    this.sink.warning(this.clean(message), props)
  }

  notice(message: string, props?: AnnotationProps): void {
    this.sink.notice(this.clean(message), props)
  }

  /** An error annotation: shown on the run page, the step's result is decided elsewhere. */
  annotate(message: string, props?: AnnotationProps): void {
    this.sink.error(this.clean(message), props)
  }

  /** Writes a whole group at once, so groups from concurrent workers never interleave. */
  group(title: string, lines: string[]): void {
    this.sink.startGroup(this.clean(title))
    for (const line of lines) this.sink.info(this.clean(line))
    this.sink.endGroup()
  }
}
