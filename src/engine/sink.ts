/**
 * The part of @actions/core the action uses. main.ts passes the real module; tests pass a
 * recorder. Keeping it small keeps every side effect of a run visible in one place.
 */
export interface ActionSink {
  getInput(name: string): string
  setSecret(value: string): void
  setOutput(name: string, value: string): void
  setFailed(message: string): void
  info(message: string): void
  debug(message: string): void
  warning(message: string, properties?: AnnotationProps): void
  error(message: string, properties?: AnnotationProps): void
  notice(message: string, properties?: AnnotationProps): void
  startGroup(name: string): void
  endGroup(): void
  /** Appends markdown to the step summary (GITHUB_STEP_SUMMARY); a no-op when there is none. */
  writeSummary(markdown: string): Promise<void>
  /** GitHub's OIDC token for `audience` (needs `permissions: id-token: write`). */
  getIDToken(audience: string): Promise<string>
}

export interface AnnotationProps {
  title?: string
}
