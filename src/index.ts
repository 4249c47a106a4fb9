import { run } from './main.js'

const result = await run()
// A cancelled run has published what it did; timers of abandoned waits must not keep it alive.
if (result.cancelled) process.exit(1)
