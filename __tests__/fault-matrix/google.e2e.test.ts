// The fault matrix (__tests__/helpers/fault-matrix.ts) for google.
import { faultMatrix } from '../helpers/fault-matrix.js'
import { profileOf } from '../helpers/fault-profiles.js'

faultMatrix(profileOf('google'))
