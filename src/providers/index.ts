import type { AnyProvider } from '../engine/provider.js'
import { box } from './box/index.js'
import { denovolab } from './denovolab/index.js'
import { entra } from './entra/index.js'
import { google } from './google/index.js'
import { huaweicloud } from './huaweicloud/index.js'
import { iproyal } from './iproyal/index.js'
import { okta } from './okta/index.js'
import { slack } from './slack/index.js'

/** Every provider the action knows, by the name the `provider` input takes. */
export const providers: ReadonlyMap<string, AnyProvider> = new Map([iproyal, huaweicloud, box, denovolab, entra, okta, slack, google].map((p) => [p.name, p]))

export const providerNames = [...providers.keys()]
