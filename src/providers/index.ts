import type { Provider } from '../engine/types.js'
import { iproyal } from './iproyal.js'

/** Every provider the action knows, by the name the `provider` input takes. */
export const providers: Record<string, Provider> = {
  [iproyal.name]: iproyal
}

export const providerNames = Object.keys(providers)
