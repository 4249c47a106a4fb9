/**
 * Every secret the run knows (inputs and values minted at run time) and the scrubber that
 * removes them, and anything shaped like a credential, from text before it is logged or written.
 */
export class SecretStore {
  private readonly values = new Set<string>()

  constructor(private readonly mask: (value: string) => void = () => {}) {}

  add(value: string | undefined): void {
    if (!value) return
    const trimmed = value.trim()
    for (const v of new Set([value, trimmed, encodeURIComponent(trimmed)])) {
      if (v.length < 4 || this.values.has(v)) continue
      this.values.add(v)
      this.mask(v)
    }
  }

  scrub(text: string): string {
    let out = text
    // Longest first, so a secret that contains another is removed whole.
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
      out = out.split(v).join('***')
    }
    return out
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/gi, '$1 ***')
      .replace(/("?(?:access_token|refresh_token|client_secret|password|token|secret|X-Auth-Token|X-Security-Token)"?\s*[:=]\s*"?)[^"&\s,}]+/gi, '$1***')
      .replace(/(Signature=)[0-9a-f]{16,}/gi, '$1***')
  }
}
