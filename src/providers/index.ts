import type { Provider } from '../engine/types.js'
import { iproyal } from './iproyal.js'
import { denovolab } from './denovolab.js'
import { box } from './box.js'
import { huaweicloud } from './huaweicloud/index.js'

/** Every provider the action knows, by the name the `provider` input takes. */
export const providers: Record<string, Provider> = {
  [iproyal.name]: iproyal,
  [denovolab.name]: denovolab,
  [box.name]: box,
  [huaweicloud.name]: huaweicloud
}

export const providerNames = Object.keys(providers)
