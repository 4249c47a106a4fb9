/**
 * Every secret the run knows (inputs and values minted at run time) and the scrubber that removes
 * them, in every form a server may echo them back in, and anything shaped like a credential, from
 * text before it is logged, cut to a snippet or written.
 */
export class SecretStore {
  private readonly values = new Set<string>()
  private sorted: string[] = []

  constructor(private readonly mask: (value: string) => void = () => {}) {}

  /** Registers a secret and masks it (and its encoded forms) with the runner at once. */
  add(value: string | undefined): void {
    if (!value) return
    const trimmed = value.trim()
    if (trimmed.length < 4) return
    let added = false
    for (const v of variants(value)) {
      if (v.length < 4 || this.values.has(v)) continue
      this.values.add(v)
      this.mask(v)
      added = true
    }
    if (added) this.sorted = [...this.values].sort((a, b) => b.length - a.length)
  }

  scrub(text: string): string {
    let out = text
    // Longest first, so a secret that contains another is removed whole.
    for (const v of this.sorted) if (out.includes(v)) out = out.split(v).join('***')
    return (
      out
        .replace(/\b(Bearer|Basic|SSWS)\s+[A-Za-z0-9._~+/=-]{4,}/gi, '$1 ***')
        // Keys standing alone: "id-token: write" (a permission) is not a token; "token=..." and "\"token\": ..." are.
        .replace(
          /((?<![\w-])"?(?:access_token|refresh_token|id_token|client_secret|client_assertion|assertion|password|private_key|token|secret|X-Auth-Token|X-Security-Token)"?\s*[:=]\s*"?)[^"&\s,}]+/gi,
          '$1***'
        )
        .replace(/(Signature=)[0-9a-f]{16,}/gi, '$1***')
    )
  }
}

/** The forms a secret can come back in: as given, trimmed, URL-encoded (either hex case), JSON- and HTML-escaped, base64. */
function variants(value: string): string[] {
  const trimmed = value.trim()
  const out = new Set<string>([value, trimmed])
  const uri = encodeURIComponent(trimmed)
  out.add(uri)
  out.add(uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()))
  out.add(new URLSearchParams({ v: trimmed }).toString().slice(2))
  out.add(JSON.stringify(trimmed).slice(1, -1))
  out.add(trimmed.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c))
  out.add(trimmed.replace(/[&<>"']/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`))
  const b64 = Buffer.from(trimmed, 'utf8').toString('base64')
  out.add(b64)
  out.add(b64.replace(/=+$/, ''))
  out.add(Buffer.from(trimmed, 'utf8').toString('base64url'))
  // Multi-line secrets (PEM keys): every long line is a secret on its own (logs break lines).
  for (const line of trimmed.split(/\r?\n/)) if (line.trim().length >= 16 && !/^-----/.test(line.trim())) out.add(line.trim())
  return [...out]
}
