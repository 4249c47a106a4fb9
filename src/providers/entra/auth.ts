// Getting a Microsoft Graph token for the app registration, two ways, at the identity platform's
// token endpoint {auth-base-url}/{tenant}/oauth2/v2.0/token with the client credentials grant
// (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
//  - keyless (token empty): the job's GitHub OIDC token for audience api://AzureADTokenExchange is the
//    client assertion (client_assertion_type jwt-bearer), matched by a federated credential on the app
//    (learn.microsoft.com/entra/workload-id/workload-identity-federation);
//  - a client secret (token set): client_secret.
// Every token is masked the moment it exists: the GitHub OIDC token here, the access token by MintedToken.
import { ProviderRequestError } from '../../engine/errors.js'
import { MintedToken } from '../../engine/http/auth.js'
import type { ProviderContext } from '../../engine/provider.js'
import { aadstsCode, tokenAnswer } from './graph.js'

export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/**
 * Graph's hosts, global and national (learn.microsoft.com/graph/deployments). A `.default` scope must
 * name the Graph host of the cloud the app lives in (learn.microsoft.com/graph/sdks/national-clouds).
 */
const GRAPH_HOSTS = new Set(['graph.microsoft.com', 'graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn'])

/** The scope to ask for: the Graph host of base-url when it is one of Microsoft's, else the global one. */
export function graphScope(baseUrl: string): string {
  let host = ''
  try {
    host = new URL(baseUrl).hostname.toLowerCase()
  } catch {
    // base-url was validated; a parse failure falls back to the global host.
  }
  return `https://${GRAPH_HOSTS.has(host) ? host : 'graph.microsoft.com'}/.default`
}

/** The `sub` claim of a JWT, read without verifying it (only to say which subject the federated credential must name). */
function subjectOf(jwt: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown }
    return typeof payload.sub === 'string' && payload.sub.length <= 400 ? payload.sub : undefined
  } catch {
    return undefined
  }
}

function federatedCredentialFix(subject: string | undefined): string {
  return (
    `add a federated credential to the app registration (Certificates & secrets > Federated credentials) with issuer ${GITHUB_ISSUER}, ` +
    `subject ${subject !== undefined ? `exactly ${JSON.stringify(subject)} (the subject GitHub issued to this job; it is case-sensitive)` : "repo:ORG/REPO:environment:NAME (the job's subject, exactly)"} ` +
    `and audience ${TOKEN_EXCHANGE_AUDIENCE}`
  )
}

/** How to fix a refused mint, from the AADSTS code the identity platform gave. */
function hint(err: ProviderRequestError, keyless: boolean, subject: string | undefined): string {
  const code = aadstsCode(err.info)
  switch (code) {
    case 'AADSTS7000215':
      return "token does not hold a valid client secret of this app: pass the secret's Value (not its Secret ID) from Certificates & secrets, or leave token empty for keyless sign-in"
    case 'AADSTS7000222':
      return 'the client secret in token has expired: create a new one under Certificates & secrets and update the repository secret'
    case 'AADSTS90002':
      return 'check tenant-id: the directory (tenant) id or a verified domain of your tenant'
    case 'AADSTS700016':
      return 'check client-id (the Application (client) id of the app registration) and that the app is registered in the tenant named by tenant-id'
    case 'AADSTS700211':
    case 'AADSTS700212':
    case 'AADSTS700213':
    case 'AADSTS7002138':
      return federatedCredentialFix(subject)
    case 'AADSTS700024':
      return 'the GitHub OIDC token is outside its valid time range: check the runner clock and run the job again'
    case 'AADSTS1002012':
    case 'AADSTS500011':
      return 'base-url does not name a Microsoft Graph host this tenant knows: leave base-url empty for https://graph.microsoft.com/v1.0'
    default:
      if (err.info.status === 401 && keyless) return federatedCredentialFix(subject)
      return ''
  }
}

/**
 * The app's Graph token: minted on first use, masked at once, re-minted before it expires and once
 * after a 401. Keyless when `ctx.token` is empty.
 */
export function graphToken(ctx: ProviderContext<{ tenantId: string; clientId: string }>): MintedToken {
  const keyless = ctx.token.trim() === ''
  const url = `${ctx.authBaseUrl ?? 'https://login.microsoftonline.com'}/${encodeURIComponent(ctx.options.tenantId)}/oauth2/v2.0/token`
  const scope = graphScope(ctx.baseUrl)
  let subject: string | undefined

  async function assertion(): Promise<string> {
    let idToken: string
    try {
      idToken = await ctx.getIdToken(TOKEN_EXCHANGE_AUDIENCE)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new ProviderRequestError(
        {
          code: 'github-oidc',
          message:
            `token is empty, so the action signs in without a secret (keyless), and GitHub did not issue an OIDC token for audience ${TOKEN_EXCHANGE_AUDIENCE} (${why}). ` +
            `Fix: give the job the permission "id-token" set to "write" (in its permissions block), and ${federatedCredentialFix(undefined)}; or pass a client secret of the app in token`
        },
        1,
        true
      )
    }
    // GitHub's token is a credential too: masked before anything could print it.
    ctx.addSecret(idToken)
    subject = subjectOf(idToken)
    return idToken
  }

  return new MintedToken({
    label: keyless ? 'a Microsoft Graph token (keyless: GitHub OIDC federated credential)' : 'a Microsoft Graph token (client secret)',
    clock: ctx.clock,
    log: ctx.log,
    addSecret: (v) => ctx.addSecret(v),
    header: (token) => ({ authorization: `Bearer ${token}` }),
    mint: async () => {
      const credential: Record<string, string> = keyless
        ? { client_assertion_type: JWT_BEARER, client_assertion: await assertion() }
        : { client_secret: ctx.token.trim() }
      const res = await ctx.http.request({
        method: 'POST',
        url,
        auth: null,
        form: { grant_type: 'client_credentials', client_id: ctx.options.clientId, scope, ...credential },
        schema: tokenAnswer,
        what: 'the Microsoft identity platform token endpoint'
      })
      return { token: res.data.access_token, expiresIn: res.data.expires_in }
    },
    hint: (err) => hint(err, keyless, subject)
  })
}
